module github.com/kyma-incubator/open-connectors-job

go 1.26.8
