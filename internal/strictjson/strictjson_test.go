package strictjson_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/kyma-incubator/open-connectors-job/internal/strictjson"
)

type inner struct {
	Size *int64   `json:"size"`
	Tags []string `json:"tags"`
}

type doc struct {
	Name  string `json:"name"`
	Inner inner  `json:"inner"`
}

func problems(ps []*strictjson.Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Error())
	}
	return out
}

func TestDecode(t *testing.T) {
	var d doc
	assert.Empty(t, strictjson.Decode([]byte(`{"NAME": "a", "inner": {"size": 3, "tags": ["x"]}}`), &d), "keys match case-insensitively")
	assert.Equal(t, "a", d.Name)
	assert.Equal(t, int64(3), *d.Inner.Size)

	got := problems(strictjson.Decode([]byte(`{"name": "a", "Name": "s3cr3t", "extra": 1, "extra": 2,
		"inner": {"size": "big", "tags": [1], "more": true}}`), &doc{}))
	assert.Equal(t, []string{
		`name: given twice, as "name" and "Name"`,
		"extra: " + strictjson.UnknownKey,
		"inner.size: wrong type: want an integer",
		"inner.tags: wrong type: want an array of strings",
		"inner.more: " + strictjson.UnknownKey,
	}, got)
	for _, p := range got {
		assert.NotContains(t, p, "s3cr3t", "no value is quoted")
	}

	assert.Equal(t, []string{"not valid JSON: syntax error at line 2, column 5"},
		problems(strictjson.Decode([]byte("{\n\"a\" 1}"), &doc{})))
	assert.Len(t, strictjson.Decode([]byte(`{} {}`), &doc{}), 1, "one document only")
}

func TestKeyOrder(t *testing.T) {
	rank := strictjson.KeyOrder[doc]()
	assert.Less(t, rank("name"), rank("inner.size"))
	assert.Less(t, rank("inner.size"), rank("inner.tags[2]"), "an index ranks with its key")
	assert.Equal(t, rank("nothing"), rank("other"), "keys outside the schema rank last")
	assert.Greater(t, rank("nothing"), rank("inner.tags"))
}
