// Command fakefunction is a Lambda function for rie's tests: it does what
// its event says.
package main

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type event struct {
	Do  string `json:"do"`
	Env string `json:"env"`
}

func handle(_ context.Context, e event) (map[string]string, error) {
	switch e.Do {
	case "error":
		return nil, errors.New("refused")
	case "panic":
		panic("boom")
	case "sleep":
		time.Sleep(5 * time.Second)
	}
	return map[string]string{"env": os.Getenv(e.Env)}, nil
}

func main() { lambda.Start(handle) }
