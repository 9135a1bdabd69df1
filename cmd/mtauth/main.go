// Command mtauth runs the Data API authentication service locally and
// administers its users and table.
//
//	mtauth serve [flags]        serve the API on 127.0.0.1:3000
//	mtauth user <command> ...   add, change, enable, disable and list users
//	mtauth table create         create the DynamoDB table
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/mtauth/mtauth/pkg/config"
)

const usage = `mtauth: the Movable Type Data API's sign-in, session and token service.

Usage:
  mtauth serve [--addr 127.0.0.1:3000] [--user NAME:SIGNIN_PASSWORD:WEB_SERVICES_PASSWORD ...]
  mtauth user add NAME [flags]
  mtauth user set-password NAME [--password P]
  mtauth user set-web-services-password NAME [--password P]
  mtauth user disable NAME
  mtauth user enable NAME
  mtauth user unlock NAME
  mtauth user list
  mtauth ip unlock IP
  mtauth table create

Run 'mtauth COMMAND --help' for a command's flags.

DynamoDB: 'serve' uses an embedded in-memory DynamoDB unless
AWS_ENDPOINT_URL_DYNAMODB is set; every other command uses the DynamoDB the
AWS configuration points at (AWS_ENDPOINT_URL_DYNAMODB for a local one).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "mtauth:", err)
		os.Exit(1)
	}
}

// errUsage means the command line was wrong and usage was printed.
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "user":
		return user(ctx, args[1:], stdin, stdout, stderr)
	case "ip":
		return ip(ctx, args[1:], stdout, stderr)
	case "table":
		return table(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		fmt.Fprint(stdout, settingsHelp())
		return nil
	default:
		fmt.Fprintf(stderr, "mtauth: unknown command %q\n\n%s", args[0], usage)
		return errUsage
	}
}

// newFlagSet returns a flag set whose --help prints the command's synopsis,
// its flags and, where relevant, the settings it reads.
func newFlagSet(name, synopsis string, stderr io.Writer, withSettings bool) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s\n", synopsis)
		fs.PrintDefaults()
		if withSettings {
			fmt.Fprint(stderr, settingsHelp())
		}
	}
	return fs
}

func settingsHelp() string {
	var b strings.Builder
	b.WriteString("\nSettings (environment variables):\n")
	for _, v := range config.Variables {
		fmt.Fprintf(&b, "  %-36s %s (default %s)\n", v.Name, v.Help, v.Default)
	}
	return b.String()
}

// parseFlags parses args, allowing flags after positional arguments
// ("user add alice --superuser"), and returns the positional ones.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errUsage
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
