//go:build funcify.lambdaonly

package app

import (
	"context"
	"fmt"
	"io"
)

// Main, in a binary built with the funcify.lambdaonly tag, runs nothing:
// that tag leaves the local server and -event out of the binary (about
// 0.4 MB: net/http's server among them), for a bootstrap that only ever
// runs in Lambda. It says so on stderr and returns 2. Build without the tag
// (go run ./yourfunction) to run the app locally.
func (a *App) Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "funcify: this binary was built with -tags funcify.lambdaonly, which leaves the local server out: "+
		"it runs only in Lambda (AWS_LAMBDA_RUNTIME_API set), as under the Lambda Runtime Interface Emulator; "+
		"build without that tag to run it locally")
	return 2
}
