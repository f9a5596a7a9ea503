package compasstest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
}

type tokenError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func writeTokenError(w http.ResponseWriter, status int, code, description string) {
	writeTokenErrorEcho(w, status, code, description, "")
}

func writeTokenErrorEcho(w http.ResponseWriter, status int, code, description, echo string) {
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="oauth2"`)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(tokenError{Error: code, Description: description + echo})
}

// serveToken is the OAuth2 client-credentials token endpoint.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeTokenError(w, http.StatusBadRequest, "invalid_request", "the request body cannot be read")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	echo := s.echoOf(r, body)
	fail := func(status int, code, description string) {
		writeTokenErrorEcho(w, status, code, description, echo)
	}
	if f := s.takeFault(TokenOperation); f != nil {
		if f.Status != 0 && f.Body != nil {
			writeRaw(w, f.Status, f.ContentType, f.Body)
			return
		}
		status := f.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		fail(status, "server_error", "injected fault")
		return
	}
	if r.Method != http.MethodPost {
		fail(http.StatusMethodNotAllowed, "invalid_request", "the token endpoint accepts POST only")
		return
	}
	if err := r.ParseForm(); err != nil {
		fail(http.StatusBadRequest, "invalid_request", "the request body is not a valid form")
		return
	}
	id, secret, ok := basicAuth(r)
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	client, known := s.clients[id]
	if !known || id == "" || client.Secret != secret {
		fail(http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		fail(http.StatusBadRequest, "unsupported_grant_type", "The authorization grant type is not supported.")
		return
	}
	scopes := strings.Fields(r.PostForm.Get("scope"))
	for _, sc := range scopes {
		if !slices.Contains(client.Scopes, sc) {
			fail(http.StatusBadRequest, "invalid_scope", "The client is not allowed to request scope "+sc+".")
			return
		}
	}
	token := s.issue(client, scopes)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(tokenResponse{
		AccessToken: token, TokenType: "bearer",
		ExpiresIn: int(s.lifetime.Round(time.Second) / time.Second), Scope: strings.Join(scopes, " "),
	})
}

// basicAuth reads client credentials from an Authorization: Basic header.
// As RFC 6749 §2.3.1 asks (and Hydra does), id and secret are
// form-URL-decoded after the base64 decoding.
func basicAuth(r *http.Request) (id, secret string, ok bool) {
	rawID, rawSecret, ok := r.BasicAuth()
	if !ok {
		return "", "", false
	}
	id, err1 := url.QueryUnescape(rawID)
	secret, err2 := url.QueryUnescape(rawSecret)
	if err1 != nil || err2 != nil {
		return "", "", false
	}
	return id, secret, true
}

func (s *Server) issue(client Client, scopes []string) string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	token := "ct_" + hex.EncodeToString(b[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = tokenGrant{client: client, scopes: slices.Clone(scopes), expires: time.Now().Add(s.lifetime)}
	return token
}

// Token returns a valid bearer token of the client with the given id,
// carrying exactly the given scopes, without a round trip to the token
// endpoint. It panics when the client is unknown.
func (s *Server) Token(clientID string, scopes ...string) string {
	client, ok := s.clients[clientID]
	if !ok {
		panic("compasstest: unknown client " + clientID)
	}
	return s.issue(client, scopes)
}

// ExpireTokens makes every token issued so far invalid, so that the next
// GraphQL request answers HTTP 401 and a client must fetch a new token.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}
