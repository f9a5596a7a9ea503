package chaos

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/kyma-incubator/open-connectors-job/openconnectors/octest"
)

// The job's settings that the expected state depends on.
const (
	prefix   = "chaos"
	owner    = "chaos"
	userSec  = "chaos-user-7d1f0c"
	orgSec   = "chaos-organization-4b9e2a"
	basePath = "/elements/api-v2"
)

// jobTags are the tags the job selects (any of them).
var jobTags = []string{"crm", "erp", "hr"}

// allTags are the tags instances carry: "internal" alone is not selected.
var allTags = []string{"crm", "erp", "hr", "internal"}

// elements are the connectors. Keys are ASCII, as the platform's are, so the
// bundle name is the key itself.
var elements = []octest.Element{
	{ID: 1, Key: "sfdc", Name: "Salesforce"},
	{ID: 2, Key: "hubspot", Name: "HubSpot"},
	{ID: 3, Key: "zendesk", Name: "Zendesk"},
	{ID: 4, Key: "netsuiteerpv2", Name: "NetSuite ERP"},
	{ID: 5, Key: "servicenow", Name: "ServiceNow"},
	{ID: 6, Key: "sapariba", Name: "SAP Ariba"},
}

// instanceNames are the display names instances get, each with the
// printable ASCII form the contract gives it in an API name (worked out by
// hand from the rules: diacritics dropped, ß ss, Æ AE, ø o, Ł L, other runs
// "_", white space runs one space).
var instanceNames = []struct{ name, ascii string }{
	{"Sales EU", "Sales EU"},
	{"Vertrieb Zürich", "Vertrieb Zurich"},
	{"Straße Köln", "Strasse Koln"},
	{"Café Crème", "Cafe Creme"},
	{"Łódź Sales", "Lodz Sales"},
	{"日本の顧客", "_"},
	{"Rocket 🚀 Team", "Rocket _ Team"},
	{"naïve  CRM", "naive CRM"},
	{"Ærø Øst", "AEro Ost"},
	{"Ελληνικά", "_"},
	{"Support (Tier 2)", "Support (Tier 2)"},
}

// brokenDocs are documents the job must refuse as item failures.
var brokenDocs = [][]byte{
	[]byte("<html><body><h1>502 Bad Gateway</h1></body></html>"),
	[]byte(`{"swagger": "1.0", "info": {}}`),
	[]byte(`{"swagger": "2.0", "info": {"title": "cut`),
	[]byte(`[]`),
}

// instance is the test's model of one connector instance: what the fake
// serves for it.
type instance struct {
	octest.Instance
	nameIdx int
	doc     []byte
	broken  bool
	// served holds every valid document the instance served, so that a
	// stored spec can be checked to be one of them byte for byte.
	served [][]byte
	// pinned instances clash with a foreign application's name; drift
	// leaves them alone.
	pinned bool
}

func (in *instance) appName() string { return fmt.Sprintf("%s-%d", prefix, in.ID) }

func (in *instance) selected() bool {
	for _, t := range in.Tags {
		if slices.Contains(jobTags, t) {
			return true
		}
	}
	return false
}

func (in *instance) unusable() bool { return in.Token == "" }

func (in *instance) failed() bool { return in.Disabled || in.Invalid }

func (in *instance) credential() string {
	return "User " + userSec + ", Organization " + orgSec + ", Element " + in.Token
}

func (in *instance) description() string {
	return "SAP Open Connectors " + in.Element.Name + ": " + in.Name
}

func (in *instance) apiName() string {
	return in.Element.Name + ": " + instanceNames[in.nameIdx].ascii
}

func (in *instance) status() string {
	if in.failed() {
		return "FAILED"
	}
	return "CONNECTED"
}

func (in *instance) servedDoc(doc []byte) bool {
	return slices.ContainsFunc(in.served, func(d []byte) bool { return string(d) == string(doc) })
}

// platform is the model of the Open Connectors tenant, kept in step with
// the fake.
type platform struct {
	srv       *octest.Server
	instances map[int64]*instance
	nextID    int64
	revision  int64
	// retired holds the tokens replaced or removed since the last call of
	// live: the Director may still hold them.
	retired []string
}

// live returns the tokens the platform serves and those retired since the
// last call: every instance token the job of the coming run can know.
func (p *platform) live() []string {
	tokens := p.retired
	p.retired = nil
	for _, in := range p.instances {
		if in.Token != "" {
			tokens = append(tokens, in.Token)
		}
	}
	return tokens
}

// retire remembers the token of in before it changes or goes.
func (p *platform) retire(in *instance) {
	if in.Token != "" {
		p.retired = append(p.retired, in.Token)
	}
}

func newPlatform(rng *rand.Rand, n int, pinned ...int64) *platform {
	p := &platform{srv: octest.NewServer(octest.WithSecrets(userSec, orgSec)), instances: map[int64]*instance{},
		nextID: 1001, revision: 1_700_000_000_000}
	for range n {
		in := p.newInstance(rng)
		if slices.Contains(pinned, in.ID) {
			in.pinned, in.Disabled, in.Invalid, in.Tags = true, false, false, []string{"crm"}
			if in.Token == "" {
				in.Token = p.token(rng)
			}
		}
		p.push(in)
	}
	return p
}

func (p *platform) token(rng *rand.Rand) string {
	b := make([]byte, 17)
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	return base64.StdEncoding.EncodeToString(b) // has '+', '/' and '=' now and then
}

func (p *platform) bump() int64 {
	p.revision += 1000
	return p.revision
}

// document is a valid Swagger 2.0 document for in, in one of several
// layouts. Some carry "packageID", which the Director rewrites in raw
// bodies: the job must store them byte for byte anyway.
func document(rng *rand.Rand, in *instance, version int64) []byte {
	switch rng.IntN(4) {
	case 0:
		return octest.SwaggerDocument(fmt.Sprintf("%s v%d", in.Name, version), 512+rng.IntN(4096))
	case 1:
		return []byte(fmt.Sprintf("{\n  \"swagger\" : \"2.0\",\n  \"info\" : {\"title\": %q, \"version\": \"%d\"},\n"+
			"  \"paths\" : {\"/packages/{packageID}\": {\"get\": {\"parameters\": [{\"name\": \"packageID\", \"in\": \"path\"}]}}}\n}\n",
			in.Name, version))
	default:
		doc := map[string]any{
			"swagger":  "2.0",
			"info":     map[string]any{"title": in.Element.Name + " – " + in.Name, "version": fmt.Sprint(version)},
			"host":     "api.example.com",
			"basePath": basePath,
			"paths": map[string]any{
				"/contacts": map[string]any{"get": map[string]any{"summary": "Kontakte – ä ö ü 日本 \u2028"}},
			},
		}
		b, _ := json.Marshal(doc)
		return b
	}
}

func (p *platform) newInstance(rng *rand.Rand) *instance {
	id := p.nextID
	p.nextID++
	in := &instance{Instance: octest.Instance{ID: id, Element: elements[rng.IntN(len(elements))]}}
	in.nameIdx = rng.IntN(len(instanceNames))
	in.Name = instanceNames[in.nameIdx].name
	in.Token = p.token(rng)
	in.UpdatedDate = p.bump()
	switch r := rng.IntN(20); {
	case r < 2:
		in.Disabled = true
	case r < 3:
		in.Invalid = true
	case r < 4:
		in.Token = ""
	}
	in.Tags = randomTags(rng)
	in.doc = document(rng, in, in.UpdatedDate)
	in.served = append(in.served, in.doc)
	return in
}

func randomTags(rng *rand.Rand) []string {
	switch rng.IntN(8) {
	case 0:
		return nil
	case 1:
		return []string{"internal"}
	}
	var tags []string
	for _, t := range allTags {
		if rng.IntN(2) == 0 {
			tags = append(tags, t)
		}
	}
	if len(tags) == 0 || (len(tags) == 1 && tags[0] == "internal") {
		tags = append(tags, jobTags[rng.IntN(len(jobTags))])
	}
	return tags
}

// push writes in to the fake.
func (p *platform) push(in *instance) {
	p.instances[in.ID] = in
	p.srv.Put(in.Instance)
	p.srv.SetSpec(in.ID, in.doc)
}

// ids returns the instance ids in order.
func (p *platform) ids() []int64 {
	ids := make([]int64, 0, len(p.instances))
	for id := range p.instances {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// pick returns a random instance that drift may change, or nil.
func (p *platform) pick(rng *rand.Rand, ok func(*instance) bool) *instance {
	var cands []*instance
	for _, id := range p.ids() {
		if in := p.instances[id]; !in.pinned && (ok == nil || ok(in)) {
			cands = append(cands, in)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	return cands[rng.IntN(len(cands))]
}

// drift is one change of the platform; it returns what it did, or "" when
// it found nothing to do.
func (p *platform) drift(rng *rand.Rand) string {
	switch rng.IntN(13) {
	case 0:
		if in := p.pick(rng, nil); in != nil {
			in.nameIdx = rng.IntN(len(instanceNames))
			in.Name = instanceNames[in.nameIdx].name
			in.UpdatedDate = p.bump()
			p.push(in)
			return "rename"
		}
	case 1:
		if len(p.instances) > 45 {
			if in := p.pick(rng, nil); in != nil {
				p.retire(in)
				delete(p.instances, in.ID)
				p.srv.Remove(in.ID)
				return "delete"
			}
		}
	case 2:
		if len(p.instances) < 75 {
			p.push(p.newInstance(rng))
			return "add"
		}
	case 3:
		if in := p.pick(rng, func(in *instance) bool { return !in.unusable() }); in != nil {
			p.retire(in)
			in.Token = p.token(rng)
			p.push(in)
			return "rotate token"
		}
	case 4, 5:
		if in := p.pick(rng, nil); in != nil {
			in.UpdatedDate = p.bump()
			in.doc, in.broken = document(rng, in, in.UpdatedDate), false
			in.served = append(in.served, in.doc)
			p.push(in)
			return "change document"
		}
	case 6:
		if in := p.pick(rng, func(in *instance) bool { return !in.Disabled }); in != nil {
			in.Disabled = true
			p.push(in)
			return "disable"
		}
	case 7:
		if in := p.pick(rng, func(in *instance) bool { return in.failed() }); in != nil {
			in.Disabled, in.Invalid = false, false
			p.push(in)
			return "re-enable"
		}
	case 8:
		if in := p.pick(rng, func(in *instance) bool { return !in.Invalid }); in != nil {
			in.Invalid = true
			p.push(in)
			return "invalidate"
		}
	case 9:
		if in := p.pick(rng, func(in *instance) bool { return !in.broken }); in != nil {
			in.UpdatedDate = p.bump()
			in.doc, in.broken = brokenDocs[rng.IntN(len(brokenDocs))], true
			p.push(in)
			return "break document"
		}
	case 10:
		if in := p.pick(rng, func(in *instance) bool { return !in.unusable() }); in != nil {
			p.retire(in)
			in.Token = ""
			p.push(in)
			return "make unusable"
		}
	case 11:
		if in := p.pick(rng, func(in *instance) bool { return in.unusable() }); in != nil {
			in.Token = p.token(rng)
			p.push(in)
			return "make usable"
		}
	case 12:
		if in := p.pick(rng, nil); in != nil {
			in.Tags = randomTags(rng)
			p.push(in)
			return "retag"
		}
	}
	return ""
}

// repair gives every instance with a broken document a valid one, so that
// the platform can be converged to exactly.
func (p *platform) repair(rng *rand.Rand) {
	for _, id := range p.ids() {
		if in := p.instances[id]; in.broken {
			in.UpdatedDate = p.bump()
			in.doc, in.broken = document(rng, in, in.UpdatedDate), false
			in.served = append(in.served, in.doc)
			p.push(in)
		}
	}
}
