module github.com/funcify/funcify/bench

go 1.26.8

require (
	github.com/akrylysov/algnhsa v1.1.0
	github.com/aws/aws-lambda-go v1.55.1
	github.com/awslabs/aws-lambda-go-api-proxy v0.16.2
	github.com/failsafe-go/failsafe-go v0.9.8
	github.com/funcify/funcify v0.0.0
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/sony/gobreaker/v2 v2.4.0
	golang.org/x/oauth2 v0.38.0
)

require (
	github.com/bits-and-blooms/bitset v1.24.4 // indirect
	github.com/go-json-experiment/json v1.27.2 // indirect
)

replace github.com/funcify/funcify => ../
