// Command funcifyhello is the smallest funcify function: an app whose
// direct-invoke route answers "ok", with the default logger, started with
// (*app.App).Start. invokecpu compares it with ../hello, aws-lambda-go's.
package main

import (
	"context"

	"github.com/funcify/funcify/app"
)

func main() {
	a := app.New()
	app.HandleInvoke(a, func(context.Context, struct{}) (string, error) { return "ok", nil })
	a.Start()
}
