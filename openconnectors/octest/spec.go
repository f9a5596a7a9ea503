package octest

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// SwaggerDocument returns a valid Swagger 2.0 JSON document titled title,
// shaped like a connector document (host, basePath /elements/api-v2, one GET
// operation per resource path), padded with paths to at least size bytes
// (and at most a few hundred bytes more). The same arguments always give the
// same bytes. Size 0 gives a small document with one path.
func SwaggerDocument(title string, size int) []byte {
	t, _ := json.Marshal(title)
	var b bytes.Buffer
	b.Grow(size + 512)
	b.WriteString(`{"swagger":"2.0","info":{"title":`)
	b.Write(t)
	b.WriteString(`,"version":"api-v2"},"host":"octest.invalid","basePath":"/elements/api-v2","schemes":["https"],` +
		`"consumes":["application/json"],"produces":["application/json"],"paths":{`)
	const tail = `},"definitions":{"object":{"type":"object","properties":{"id":{"type":"string"}}}}}`
	for i := 0; i == 0 || b.Len()+len(tail) < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		n := strconv.Itoa(i)
		b.WriteString(`"/resources`)
		b.WriteString(n)
		b.WriteString(`":{"get":{"operationId":"getResources`)
		b.WriteString(n)
		b.WriteString(`","summary":"Search resources `)
		b.WriteString(n)
		b.WriteString(`","parameters":[{"name":"Authorization","in":"header","required":true,"type":"string"}],` +
			`"responses":{"200":{"description":"OK","schema":{"type":"array","items":{"$ref":"#/definitions/object"}}}}}}`)
	}
	b.WriteString(tail)
	return b.Bytes()
}
