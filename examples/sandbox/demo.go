package main

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"

	"github.com/kyma-incubator/open-connectors-job/openconnectors/octest"
)

// connector is one Open Connectors element the demo tenant uses.
type connector struct {
	element octest.Element
	tags    []string
}

// connectors are the elements of the demo instances, in the order they are
// handed out.
var connectors = []connector{
	{octest.Element{ID: 3, Key: "sfdc", Name: "Salesforce Sales Cloud"}, []string{"crm", "sales"}},
	{octest.Element{ID: 1071, Key: "hubspotcrm", Name: "HubSpot CRM"}, []string{"crm", "marketing"}},
	{octest.Element{ID: 4311, Key: "servicenow", Name: "ServiceNow"}, []string{"itsm"}},
	{octest.Element{ID: 498, Key: "zendesk", Name: "Zendesk"}, []string{"support"}},
	{octest.Element{ID: 3219, Key: "shopify", Name: "Shopify"}, []string{"commerce"}},
	{octest.Element{ID: 5726, Key: "sapsuccessfactors", Name: "SAP SuccessFactors"}, []string{"hr"}},
	{octest.Element{ID: 720, Key: "hubspot", Name: "HubSpot Marketing"}, []string{"marketing"}},
	{octest.Element{ID: 3062, Key: "quickbooks", Name: "QuickBooks Online"}, []string{"finance"}},
	{octest.Element{ID: 2331, Key: "slack", Name: "Slack"}, []string{"collaboration"}},
	{octest.Element{ID: 65, Key: "box", Name: "Box"}, []string{"documents"}},
}

// sites name the demo instances; several are deliberately not ASCII, so that
// the names of bundles and APIs show how they are made printable ASCII.
var sites = []string{
	"EMEA Production", "Vertrieb Zürich", "Ventas São Paulo", "営業 東京", "Support Kraków",
	"Montréal Opérations", "Østfold Lager", "İstanbul Satış", "Αθήνα Γραφείο", "Customer Care — Dublin",
	"North America Sandbox", "APJ Staging",
}

// Demo data layout. The ids are spaced like the platform's and fixed, so
// every sandbox run shows the same names.
const (
	firstID        = 125400
	idStep         = 7
	firstUpdatedMs = int64(1735725600000) // 2025-01-01T10:00:00Z
	// MinInstances is the smallest demo tenant: the scenario needs nine
	// distinct instances plus a few that never change.
	minInstances = 12
	// The roles of instances in the scenario, by position.
	idxRenamed  = 1
	idxDeleted  = 2
	idxRotated  = 3
	idxSpec     = 4
	idxDisabled = 5
	idxBroken   = 8
)

// brokenSpec is what the broken instance serves instead of its document: an
// HTML error page, as a misconfigured proxy would send it.
var brokenSpec = []byte("<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body>upstream error</body></html>\n")

// demoInstance returns the demo instance at position i. The same i always
// gives the same instance.
func demoInstance(i int) octest.Instance {
	c := connectors[i%len(connectors)]
	env := "prod"
	if i%3 == 2 {
		env = "test"
	}
	name := sites[i%len(sites)]
	if round := i / len(sites); round > 0 {
		name += " " + strconv.Itoa(round+1)
	}
	return octest.Instance{
		ID:          instanceID(i),
		Name:        name,
		Token:       demoToken(fmt.Sprintf("instance-%d", i)),
		Element:     c.element,
		Tags:        append(append([]string(nil), c.tags...), env),
		Disabled:    i == idxDisabled,
		UpdatedDate: firstUpdatedMs + int64(i)*3_600_000,
	}
}

// instanceID is the id of the demo instance at position i.
func instanceID(i int) int64 { return int64(firstID + i*idStep) }

// position is the position of the demo instance with this id (the inverse
// of instanceID).
func position(id int64) int { return int((id - firstID) / idStep) }

// demoSpec is the API document of the demo instance in: a Swagger 2.0
// document titled after its connector, of a size that varies per instance.
func demoSpec(in octest.Instance, i int) []byte {
	return octest.SwaggerDocument(in.Element.Name+" API", (i%5)*3000)
}

// demoToken derives an instance token that looks like the platform's (base64
// of 32 bytes) from seed, deterministically.
func demoToken(seed string) string {
	sum := sha256.Sum256([]byte("ocjob-sandbox:" + seed))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// reissuedToken is the token the demo instance at position i gets when the
// platform reissues every token.
func reissuedToken(i int) string { return demoToken(fmt.Sprintf("instance-%d-reissued", i)) }

// demoInstances returns the n demo instances with their documents; the
// broken one gets brokenSpec.
func demoInstances(n int) ([]octest.Instance, map[int64][]byte) {
	instances := make([]octest.Instance, n)
	specs := make(map[int64][]byte, n)
	for i := range instances {
		in := demoInstance(i)
		instances[i] = in
		specs[in.ID] = demoSpec(in, i)
	}
	specs[instanceID(idxBroken)] = brokenSpec
	return instances, specs
}

// changedSpec is the new document the scenario publishes for in.
func changedSpec(in octest.Instance) []byte {
	return octest.SwaggerDocument(in.Element.Name+" API v2", 6000)
}
