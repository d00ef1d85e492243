module github.com/funcify/funcify

go 1.26.8

require (
	github.com/aws/aws-lambda-go v1.55.1
	github.com/go-json-experiment/json v1.27.2
)
