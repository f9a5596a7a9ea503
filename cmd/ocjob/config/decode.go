package config

import "github.com/kyma-incubator/open-connectors-job/internal/strictjson"

// file mirrors the JSON document. Keys match like encoding/json does: the
// exact tag first, then case-insensitively, as the original job accepted.
type file struct {
	LogLevel       string             `json:"logLevel"`
	LogFormat      string             `json:"logFormat"`
	Compass        compassFile        `json:"compass"`
	OpenConnectors openConnectorsFile `json:"openConnectors"`
	Sync           syncFile           `json:"sync"`
	Metrics        metricsFile        `json:"metrics"`
}

type compassFile struct {
	DirectorURL         string `json:"directorURL"`
	TenantID            string `json:"tenantId"`
	TokenURL            string `json:"tokenUrl"`
	ClientID            string `json:"clientID"`
	ClientSecret        string `json:"clientSecret"`
	ClientIDFile        string `json:"clientIDFile"`
	ClientSecretFile    string `json:"clientSecretFile"`
	ApplicationPrefix   string `json:"applicationPrefix"`
	TimeoutMills        int64  `json:"timeoutMills"`
	IntegrationSystemID string `json:"integrationSystemID"`
	PageSize            *int64 `json:"pageSize"`
	CAFile              string `json:"caFile"`
}

type openConnectorsFile struct {
	Hostname               string   `json:"hostname"`
	OrganizationSecret     string   `json:"organizationSecret"`
	UserSecret             string   `json:"userSecret"`
	OrganizationSecretFile string   `json:"organizationSecretFile"`
	UserSecretFile         string   `json:"userSecretFile"`
	TimeoutMills           int64    `json:"timeoutMills"`
	Tags                   []string `json:"tags"`
	PageSize               *int64   `json:"pageSize"`
	MaxSpecBytes           *int64   `json:"maxSpecBytes"`
	CAFile                 string   `json:"caFile"`
}

type syncFile struct {
	Owner               string `json:"owner"`
	Policy              string `json:"policy"`
	Concurrency         *int64 `json:"concurrency"`
	MaxDeletePercent    *int64 `json:"maxDeletePercent"`
	SpecRefreshInterval string `json:"specRefreshInterval"`
	RunTimeout          string `json:"runTimeout"`
}

type metricsFile struct {
	PushgatewayURL         string `json:"pushgatewayURL"`
	PushgatewayUsername    string `json:"pushgatewayUsername"`
	PushgatewayPassword    string `json:"pushgatewayPassword"`
	PushgatewayBearerToken string `json:"pushgatewayBearerToken"`
	PasswordFile           string `json:"pushgatewayPasswordFile"`
	BearerTokenFile        string `json:"pushgatewayBearerTokenFile"`
	CAFile                 string `json:"caFile"`
}

// decode decodes data into f (see strictjson.Decode).
func decode(data []byte, f *file) []error {
	var errs []error
	for _, p := range strictjson.Decode(data, f) {
		errs = append(errs, &Error{Key: p.Key, Problem: p.Problem})
	}
	return errs
}
