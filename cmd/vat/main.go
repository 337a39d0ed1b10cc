// Command vat files VAT returns and reads VAT accounts through HMRC's Making
// Tax Digital VAT API, from a terminal or a script.
//
//	vat login                       sign in to HMRC (sandbox by default)
//	vat obligations --vrn VRN       the periods to file
//	vat return submit --vrn VRN --period KEY --file boxes.xlsx
//	vat return view --vrn VRN --period KEY
//	vat liabilities | payments | penalties --vrn VRN
//	vat check VRN [--requester VRN] Check a UK VAT number
//	vat logout
//
// Install it with:
//
//	go install github.com/go-mtd/vat/cmd/vat@latest
//
// Run "vat help" or "vat COMMAND --help" for details. Exit status: 0 on
// success, 1 on an error (HMRC refused, a file has mistakes, the
// declaration was not agreed to), 2 on a usage error.
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

	"github.com/go-mtd/vat"

	"golang.org/x/term"
)

// version is the command's version, sent to HMRC in Gov-Vendor-Version and
// the User-Agent.
const version = vat.Version

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], newStdio()))
}

// stdio is the command's view of the outside world.
type stdio struct {
	in       io.Reader
	out, err io.Writer
	getenv   func(string) string
	// terminal reports whether a person is at the keyboard: standard input
	// and standard output are terminals.
	terminal func() bool
}

func newStdio() *stdio {
	return &stdio{
		in: os.Stdin, out: os.Stdout, err: os.Stderr, getenv: os.Getenv,
		terminal: func() bool {
			return term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd()))
		},
	}
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// command is a subcommand.
type command struct {
	name     string
	args     string // positional arguments, for the usage line
	short    string // one line for the command list
	long     string // what it does, in full
	examples string
	flags    func(fs *flag.FlagSet, o *options)
	run      func(ctx context.Context, io *stdio, o *options, args []string) error
	sub      []*command
}

// commands is the command tree.
func commands() []*command {
	return []*command{
		loginCommand(), logoutCommand(), obligationsCommand(),
		{
			name:  "return",
			short: "Submit or view a VAT return",
			long:  "Submit a VAT return from a spreadsheet, CSV or JSON file, or view one HMRC holds.",
			examples: `  vat return submit --vrn 123456789 --period 24A1 --file q1.xlsx --compute
  vat return view --vrn 123456789 --period 24A1`,
			sub: []*command{returnSubmitCommand(), returnViewCommand()},
		},
		liabilitiesCommand(), paymentsCommand(), penaltiesCommand(), checkCommand(),
	}
}

// run runs the command line args and returns the exit status.
func run(ctx context.Context, args []string, io *stdio) int {
	err := dispatch(ctx, args, io)
	if err == nil {
		return 0
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(io.err, "vat: %s\n", ue.msg)
		return 2
	}
	fmt.Fprintf(io.err, "vat: %s\n", explain(err))
	return 1
}

func dispatch(ctx context.Context, args []string, io *stdio) error {
	cmds := commands()
	path := "vat"
	var cmd *command
	for {
		if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
			if len(args) > 1 && args[0] == "help" { // vat help return submit
				return dispatch(ctx, append(append([]string{}, args[1:]...), "--help"), io)
			}
			w := io.out
			if len(args) == 0 {
				w = io.err
			}
			if cmd == nil {
				printTopHelp(w, cmds)
			} else {
				printGroupHelp(w, path, cmd)
			}
			if len(args) == 0 {
				return &usageError{fmt.Sprintf("%s needs a command", path)}
			}
			return nil
		}
		if args[0] == "--version" || args[0] == "version" {
			fmt.Fprintln(io.out, "vat", version)
			return nil
		}
		var next *command
		for _, c := range cmds {
			if c.name == args[0] {
				next = c
			}
		}
		if next == nil {
			if strings.HasPrefix(args[0], "-") {
				return usagef("%s: unknown flag %s; flags come after the command (run \"%s --help\")", path, args[0], path)
			}
			return usagef("%s: unknown command %q (run \"%s --help\")", path, args[0], path)
		}
		cmd, path, args = next, path+" "+next.name, args[1:]
		if cmd.sub == nil {
			break
		}
		cmds = cmd.sub
	}
	o := &options{}
	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	fs.SetOutput(io.err)
	if cmd.flags != nil {
		cmd.flags(fs, o)
	}
	fs.Usage = func() {} // help is printed below, to standard output
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printCommandHelp(io.out, path, cmd, fs)
		return nil
	}
	if err != nil {
		return &usageError{fmt.Sprintf("%s: %v (run \"%s --help\")", path, err, path)}
	}
	o.stdio = io
	if err := cmd.run(ctx, io, o, pos); err != nil {
		if o.loginHint != "" {
			return &hinted{err, o.loginHint}
		}
		return err
	}
	return nil
}

// hinted carries the command that signs in again to where the command
// went, for the advice of errors.
type hinted struct {
	err       error
	loginHint string
}

func (h *hinted) Error() string { return h.err.Error() }
func (h *hinted) Unwrap() error { return h.err }

// parseInterspersed parses flags wherever they are among the positional
// arguments (vat check 123456789 --requester 987654321), as gh and kubectl
// do. "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard) // errors are reported by the caller
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > 0 && len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func printTopHelp(w io.Writer, cmds []*command) {
	fmt.Fprint(w, `vat files VAT returns and reads VAT accounts through HMRC's Making Tax Digital API.

Usage:
  vat COMMAND [flags]

Commands:
`)
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.short)
	}
	fmt.Fprint(w, `
Examples:
  vat login --sandbox
  vat obligations --vrn 123456789
  vat return submit --vrn 123456789 --period 24A1 --file q1.xlsx --compute
  vat check 553557881

Every command works against HMRC's sandbox by default; --production uses the
live service. --sandbox-server URL runs everything against a local simulator
(vat-sandbox). The application's credentials come from HMRC_CLIENT_ID and
HMRC_CLIENT_SECRET; the VRN from --vrn or HMRC_VRN.

Run "vat COMMAND --help" for a command's flags. Exit status: 0 success,
1 error, 2 usage error.
`)
}

func printGroupHelp(w io.Writer, path string, c *command) {
	fmt.Fprintf(w, "%s\n\nUsage:\n  %s COMMAND [flags]\n\nCommands:\n", c.long, path)
	for _, s := range c.sub {
		fmt.Fprintf(w, "  %-12s %s\n", s.name, s.short)
	}
	if c.examples != "" {
		fmt.Fprintf(w, "\nExamples:\n%s\n", c.examples)
	}
}

func printCommandHelp(w io.Writer, path string, c *command, fs *flag.FlagSet) {
	usage := path + " [flags]"
	if c.args != "" {
		usage = path + " " + c.args + " [flags]"
	}
	fmt.Fprintf(w, "%s\n\nUsage:\n  %s\n\nFlags:\n", strings.TrimSpace(c.long), usage)
	fs.SetOutput(w)
	fs.VisitAll(func(f *flag.Flag) {
		name, u := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  --%s", f.Name)
		if name != "" {
			fmt.Fprintf(w, " %s", name)
		}
		fmt.Fprintf(w, "\n    \t%s", strings.ReplaceAll(u, "\n", "\n    \t"))
		if f.DefValue != "" && f.DefValue != "false" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
	if c.examples != "" {
		fmt.Fprintf(w, "\nExamples:\n%s\n", c.examples)
	}
}
