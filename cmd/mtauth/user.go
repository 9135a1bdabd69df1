package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mtauth/mtauth/pkg/app"
	"github.com/mtauth/mtauth/pkg/auth"
	"github.com/mtauth/mtauth/pkg/config"
	"github.com/mtauth/mtauth/pkg/storage"
	"github.com/mtauth/mtauth/pkg/storage/dynamo"
)

const userUsage = `Usage: mtauth user COMMAND NAME [flags]

Commands:
  add NAME                         create a user (see 'mtauth user add --help')
  set-password NAME                set the sign-in password (checked by v1, v2)
  set-web-services-password NAME   set or generate the web services password (v3..v7)
  disable NAME                     stop the user's sign-ins, sessions and tokens at once
  enable NAME                      allow the user again
  unlock NAME                      end a lockout for failed sign-ins of NAME
  list                             list users

A password flag given as "-" is read from standard input, which keeps it out of
the process list and shell history.
`

func user(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" || args[0] == "help" {
		fmt.Fprint(stderr, userUsage)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	cmd, args := args[0], args[1:]
	in := bufio.NewReader(stdin)
	switch cmd {
	case "add":
		fs := newFlagSet("user add", "mtauth user add NAME [flags]", stderr, false)
		display := fs.String("display-name", "", "display name (default NAME)")
		email := fs.String("email", "", "email address")
		superuser := fs.Bool("superuser", false, "make the user a system administrator")
		noDataAPI := fs.Bool("no-data-api", false, "do not grant the sign_in_data_api permission")
		status := fs.String("status", "active", "`status`: active, disabled or pending")
		pw := fs.String("password", "", "sign-in `password` (v1, v2); \"-\" reads it from standard input")
		wsPW := fs.String("web-services-password", "", "web services `password` (v3..v7); \"-\" reads it from standard input; empty generates one")
		name, err := oneName(fs, args)
		if err != nil {
			return err
		}
		if *status != string(storage.UserActive) && *status != string(storage.UserDisabled) && *status != string(storage.UserPending) {
			return fmt.Errorf("--status %q: want active, disabled or pending", *status)
		}
		nu := auth.NewUser{Username: name, DisplayName: *display, Email: *email, Superuser: *superuser, Status: storage.UserStatus(*status)}
		if nu.DisplayName == "" {
			nu.DisplayName = name
		}
		if !*noDataAPI {
			nu.Permissions = []string{auth.PermissionSignInDataAPI}
		}
		if nu.Password, err = secretArg(*pw, in); err != nil {
			return err
		}
		if nu.WebServicesPassword, err = secretArg(*wsPW, in); err != nil {
			return err
		}
		a, err := adminApp(ctx)
		if err != nil {
			return err
		}
		generated, err := a.Service.AddUser(ctx, nu)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created user %s\n", name)
		printGenerated(stdout, generated)
		return nil
	case "set-password", "set-web-services-password":
		fs := newFlagSet("user "+cmd, "mtauth user "+cmd+" NAME [--password P]", stderr, false)
		help := "new `password`; \"-\" reads it from standard input"
		if cmd == "set-web-services-password" {
			help += "; empty generates one"
		}
		pw := fs.String("password", "", help)
		name, err := oneName(fs, args)
		if err != nil {
			return err
		}
		value, err := secretArg(*pw, in)
		if err != nil {
			return err
		}
		a, err := adminApp(ctx)
		if err != nil {
			return err
		}
		if cmd == "set-password" {
			if err := a.Service.SetPassword(ctx, name, value); err != nil {
				return err
			}
		} else {
			generated, err := a.Service.SetWebServicesPassword(ctx, name, value)
			if err != nil {
				return err
			}
			printGenerated(stdout, generated)
		}
		fmt.Fprintf(stdout, "updated %s\n", name)
		return nil
	case "disable", "enable":
		fs := newFlagSet("user "+cmd, "mtauth user "+cmd+" NAME", stderr, false)
		name, err := oneName(fs, args)
		if err != nil {
			return err
		}
		a, err := adminApp(ctx)
		if err != nil {
			return err
		}
		status := storage.UserActive
		if cmd == "disable" {
			status = storage.UserDisabled
		}
		if err := a.Service.SetStatus(ctx, name, status); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s is %s\n", name, status)
		return nil
	case "unlock":
		fs := newFlagSet("user unlock", "mtauth user unlock NAME", stderr, false)
		name, err := oneName(fs, args)
		if err != nil {
			return err
		}
		a, err := adminApp(ctx)
		if err != nil {
			return err
		}
		if err := a.Service.UnlockUser(ctx, name); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s may sign in again\n", name)
		return nil
	case "list":
		fs := newFlagSet("user list", "mtauth user list", stderr, false)
		if rest, err := parseFlags(fs, args); err != nil {
			return err
		} else if len(rest) > 0 {
			fs.Usage()
			return errUsage
		}
		a, err := adminApp(ctx)
		if err != nil {
			return err
		}
		users, err := a.Service.ListUsers(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USERNAME\tSTATUS\tSUPERUSER\tPERMISSIONS\tDISPLAY NAME\tEMAIL")
		for _, u := range users {
			fmt.Fprintf(tw, "%s\t%s\t%t\t%s\t%s\t%s\n", u.Username, u.Status, u.Superuser, strings.Join(u.Permissions, ","), u.DisplayName, u.Email)
		}
		return tw.Flush()
	default:
		fmt.Fprintf(stderr, "mtauth user: unknown command %q\n\n%s", cmd, userUsage)
		return errUsage
	}
}

func table(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("table create", "mtauth table create\n\nCreates the table named by TABLE_NAME (on-demand billing, Time to Live on \"ttl\")\nin the DynamoDB the AWS configuration points at; an existing table is left alone.", stderr, true)
	if len(args) == 0 || args[0] != "create" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fs.Usage()
			return nil
		}
		fs.Usage()
		return errUsage
	}
	if rest, err := parseFlags(fs, args[1:]); err != nil {
		return err
	} else if len(rest) > 0 {
		fs.Usage()
		return errUsage
	}
	settings, err := config.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	client, err := dynamo.NewClient(ctx)
	if err != nil {
		return err
	}
	if err := dynamo.CreateTable(ctx, client, settings.TableName); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "table %s is ready\n", settings.TableName)
	return nil
}

func ip(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("ip unlock", "mtauth ip unlock IP\n\nEnds a lockout of an IP address for failed sign-ins.", stderr, false)
	if len(args) == 0 || args[0] != "unlock" {
		fs.Usage()
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			return nil
		}
		return errUsage
	}
	addr, err := oneName(fs, args[1:])
	if err != nil {
		return err
	}
	if _, err := netip.ParseAddr(addr); err != nil {
		return fmt.Errorf("%q is not an IP address", addr)
	}
	a, err := adminApp(ctx)
	if err != nil {
		return err
	}
	if err := a.Service.UnlockIP(ctx, addr); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s may sign in again\n", addr)
	return nil
}

// adminApp connects to the configured DynamoDB for an operator command.
func adminApp(ctx context.Context) (*app.App, error) {
	settings, err := config.FromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	client, err := dynamo.NewClient(ctx)
	if err != nil {
		return nil, err
	}
	return app.New(settings, client, time.Now, app.NewLogger(os.Stderr, settings.LogLevel)), nil
}

// oneName parses flags and exactly one positional NAME.
func oneName(fs *flag.FlagSet, args []string) (string, error) {
	rest, err := parseFlags(fs, args)
	if err != nil {
		return "", err
	}
	if len(rest) != 1 || rest[0] == "" {
		fs.Usage()
		return "", errUsage
	}
	return rest[0], nil
}

// secretArg returns a password flag's value, reading a line from stdin
// for "-".
func secretArg(v string, in *bufio.Reader) (string, error) {
	if v != "-" {
		return v, nil
	}
	line, err := in.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("empty password on standard input")
	}
	return line, nil
}

func printGenerated(w io.Writer, generated string) {
	if generated != "" {
		fmt.Fprintf(w, "web services password (shown once): %s\n", generated)
	}
}
