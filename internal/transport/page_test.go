package transport

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
)

const nginx502 = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n" +
	"<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n"

func TestHTMLPage(t *testing.T) {
	q := redact.NewScrubber()
	q.Add("s3cr3t-value-123")
	html := http.Header{"Content-Type": {"text/html; charset=utf-8"}}
	tests := []struct {
		name   string
		header http.Header
		body   string
		want   string // "" for no page
	}{
		{"nginx 502", nil, nginx502, `answered an HTML page titled "502 Bad Gateway" (HTTP 502)`},
		{"doctype, any case, after a BOM", nil, "\ufeff \n<!DOCTYPE HTML><html><head><TITLE>\n Sign  in &amp; go\n</TITLE>",
			`answered an HTML page titled "Sign in & go" (HTTP 502)`},
		{"no title", nil, "<html><body>x</body></html>", "answered an HTML page (HTTP 502)"},
		{"a secret in the title", nil, "<title>token s3cr3t-value-123</title>", `answered an HTML page titled "token [redacted]" (HTTP 502)`},
		{"unterminated title", nil, "<title>" + strings.Repeat("é", 200), ""},
		{"any '<' with an HTML content type", html, "<p>hello", "answered an HTML page (HTTP 502)"},
		{"XML is not a page", nil, "<?xml version='1.0'?><a/>", "-"},
		{"JSON", html, `{"errors":[]}`, "-"},
		{"plain text", nil, "Bad Gateway", "-"},
		{"empty", html, "", "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			page := HTMLPage(q, http.StatusBadGateway, h, []byte(tt.body))
			switch tt.want {
			case "-":
				assert.Nil(t, page)
			case "":
				require.NotNil(t, page)
				assert.LessOrEqual(t, len(page.Title), MaxTitleBytes+len("…"))
				assert.True(t, strings.HasSuffix(page.Title, "é…"), "cut on a rune boundary")
			default:
				require.NotNil(t, page)
				assert.Equal(t, tt.want, page.Error())
				assert.True(t, RetryableError(page), "a 502 page may succeed when sent again")
			}
		})
	}
	assert.False(t, RetryableError(&PageError{StatusCode: 200}), "a page instead of the API is not retried")
}

func TestPageCheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/page":
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, nginx502)
		default:
			_, _ = io.WriteString(w, `{"data":{}}`)
		}
	}))
	t.Cleanup(srv.Close)
	hc := &http.Client{Transport: &PageCheck{Scrubber: redact.NewScrubber(), Next: &Attempt{Next: http.DefaultTransport, Limit: 100}}}

	resp, err := hc.Get(srv.URL + "/json")
	require.NoError(t, err)
	body, err := Body(resp)
	require.NoError(t, err)
	assert.JSONEq(t, `{"data":{}}`, string(body))

	_, err = hc.Get("http://user:pw@" + strings.TrimPrefix(srv.URL, "http://") + "/page?token=abc")
	var page *PageError
	require.ErrorAs(t, err, &page)
	assert.Equal(t, srv.URL+"/page", page.URL, "without user info and query")
	assert.Equal(t, "502 Bad Gateway", page.Title)
	assert.NotContains(t, err.Error(), "nginx/1.25.3", "the page is never quoted")
}
