package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// settingFlag is the flag that mirrors one setting: it holds the value as
// given, checked later with the environment by loadConfig.
type settingFlag struct {
	v      string
	isBool bool
}

func (f *settingFlag) String() string     { return f.v }
func (f *settingFlag) Set(v string) error { f.v = v; return nil }
func (f *settingFlag) IsBoolFlag() bool   { return f.isBool }

// visible says whether a setting belongs to the command fs parses for:
// dev's and the console's own settings are neither flags nor help lines of
// `run` (their variables are still read), and the console offers only the
// settings it reads (consoleSettings), not the worker's.
func (s setting) visible(fs *flag.FlagSet) bool {
	cmd := cmdName(fs)
	switch {
	case strings.HasPrefix(s.env, "ZOOMW_DEV_"):
		return cmd == "dev"
	case strings.HasPrefix(s.env, "ZOOMW_CONSOLE_"):
		return cmd == "console" || cmd == "dev" // dev serves the console too
	case cmd == "console":
		return consoleSettings[s.env]
	}
	return true
}

// consoleSettings are the settings `zoom-worker console` reads besides its
// own ZOOMW_CONSOLE_*: where NATS and Redis are and how the workers key
// Redis, the accounts (names, limits and the secrets that name them), and
// its log. A worker's other settings (concurrency, retries, listeners) mean
// nothing to it, so its --help does not list them and it takes no flag
// for them.
var consoleSettings = setOf(
	"NATS_URL", "NATS_CREDS",
	"REDIS_URL", "REDIS_SENTINEL_PASSWORD", "ZOOMW_REDIS_PREFIX", "ZOOMW_REDIS_WAIT_REPLICAS",
	"ZOOMW_CACHE_TTL", "ZOOMW_RESULT_TTL", "ZOOMW_START_TIMEOUT",
	"ZOOM_ACCOUNT_ID", "ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET", "ZOOM_API_KEY", "ZOOM_API_SECRET",
	"ZOOMW_ACCOUNTS_FILE", "ZOOMW_RATE_LIMIT", "ZOOMW_RATE_LIMIT_LIGHT", "ZOOMW_RATE_LIMIT_MEDIUM",
	"ZOOMW_ZOOM_PLAN", "ZOOMW_LOG_FORMAT", "ZOOMW_LOG_LEVEL",
)

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// commandIntro is the first line of a settings command's --help.
var commandIntro = map[string]string{
	"run":     "Runs one worker against the NATS, Redis and Zoom the settings name.",
	"dev":     "Runs everything in one process: an embedded NATS, a Zoom simulator, its own store, the worker and the console.",
	"console": "Serves the operator console at ZOOMW_CONSOLE_ADDR, reading the same NATS and Redis as the workers.",
}

// loadCommandConfig is loadConfig for a command that reads the settings
// (run, dev, console): -h/--help prints the settings help on stdout and
// returns flag.ErrHelp; a bad flag or argument prints one usage line on
// stderr before exitCode says the error.
func loadCommandConfig(fs *flag.FlagSet, args []string, getenv func(string) string, stdout, stderr io.Writer) (*Config, error) {
	cfg, err := loadConfig(fs, args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		printSettingsHelp(stdout, fs)
		return nil, err
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "Usage: %s [flags]    (%s --help lists them)\n", fs.Name(), fs.Name())
	}
	return cfg, err
}

// typeName says what kind of value a setting takes, by asking its setter:
// the table then needs no second column that could disagree with it.
func (s setting) typeName() string {
	ok := func(v string) bool { return s.set(&Config{}, v) == nil }
	switch {
	case ok("a-word") && (strings.HasSuffix(s.env, "_FILE") || strings.HasSuffix(s.env, "_CREDS")):
		return "file"
	case ok("a-word"):
		return "string"
	case ok("1s"):
		return "duration"
	case ok("true") && !ok("maybe"):
		return "bool"
	case ok("1.5"):
		return "number"
	case ok("7"):
		return "int"
	case strings.HasSuffix(s.env, "_URL"):
		return "url"
	}
	return "string"
}

// parseSettingFlags defines a flag for each setting that has one and parses
// args. It prints nothing: a bad flag or a stray argument is a *usageError,
// -h/--help is flag.ErrHelp (the caller prints the help).
func parseSettingFlags(fs *flag.FlagSet, args []string) (map[string]*settingFlag, error) {
	flags := map[string]*settingFlag{}
	for _, s := range Settings {
		if s.flag != "" && s.visible(fs) {
			f := &settingFlag{isBool: s.typeName() == "bool"}
			fs.Var(f, s.flag, s.usage)
			flags[s.env] = f
		}
	}
	if err := parseQuietly(fs, args); err != nil {
		return nil, err
	}
	return flags, nil
}

// answerHelp answers a command that takes a subcommand (dlq, submit) when
// args name none or ask for help: usage and the flags of fs, on stdout for
// help, on stderr with a usage error saying missing for no subcommand. done
// is false when args name a subcommand.
func answerHelp(args []string, fs *flag.FlagSet, usage, missing string, stdout, stderr io.Writer) (done bool, err error) {
	if len(args) > 0 && args[0] != "-h" && args[0] != "--help" && args[0] != "help" {
		return false, nil
	}
	w := stdout
	if len(args) == 0 {
		w, err = stderr, &usageError{missing}
	}
	fmt.Fprint(w, usage)
	printFlags(w, fs)
	return true, err
}

// parseSubcommand parses `zoom-worker <command> <sub> [flags]` for a
// command whose subcommands share one set of flags (dlq, submit): with no
// subcommand or help it prints usage and the flags (answerHelp), a
// subcommand not in subs is a usage error, else the flags newFlags makes for
// "zoom-worker <command> <sub>" parse the rest. sub is "" when the command
// has ended: err is nil after help.
func parseSubcommand[O any](command string, subs []string, usage string, newFlags func(name string, getenv func(string) string) (*flag.FlagSet, O),
	args []string, getenv func(string) string, stdout, stderr io.Writer) (sub string, o O, err error) {
	top, _ := newFlags("zoom-worker "+command, getenv)
	if done, err := answerHelp(args, top, usage, command+": say "+orList(subs), stdout, stderr); done {
		return "", o, err
	}
	if !slices.Contains(subs, args[0]) {
		fmt.Fprint(stderr, usage)
		return "", o, &usageError{fmt.Sprintf("%s: unknown subcommand %q (want %s)", command, args[0], orList(subs))}
	}
	fs, o := newFlags("zoom-worker "+command+" "+args[0], getenv)
	if err := parseWithUsage(fs, args[1:], usage, stdout, stderr); err != nil {
		return "", o, err
	}
	return args[0], o, nil
}

// orList is words as "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// parseWithUsage is parseQuietly for a subcommand's flags: on --help it
// prints usage and the flags on stdout, on a bad flag usage on stderr.
func parseWithUsage(fs *flag.FlagSet, args []string, usage string, stdout, stderr io.Writer) error {
	err := parseQuietly(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		printFlags(stdout, fs)
	case err != nil:
		fmt.Fprint(stderr, usage)
	}
	return err
}

// parseQuietly parses args with fs printing nothing, so that a flag error is
// said once, by exitCode, after one usage line.
func parseQuietly(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return err
	case err != nil:
		return &usageError{cmdName(fs) + ": " + err.Error()}
	case fs.NArg() > 0:
		return &usageError{fmt.Sprintf("%s: unexpected argument %q (it takes only flags)", cmdName(fs), fs.Arg(0))}
	}
	return nil
}

// cmdName is the command a flag set parses for, without the program's name.
func cmdName(fs *flag.FlagSet) string { return strings.TrimPrefix(fs.Name(), "zoom-worker ") }

// printSettingsHelp is `zoom-worker run --help` (and dev's): every flag with
// its type, default and variable, then the settings that are environment
// only, the Zoom credentials among them.
func printSettingsHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: %s [flags]\n\n%s\n", fs.Name(), commandIntro[cmdName(fs)])
	fmt.Fprint(w, "Every setting is an environment variable; a flag, where there is one, wins over it.\n\nFlags:\n")
	var envOnly []setting
	for _, s := range Settings {
		if !s.visible(fs) {
			continue
		}
		if s.flag == "" {
			envOnly = append(envOnly, s)
			continue
		}
		fmt.Fprintf(w, "  --%s %s\n        %s%s\n", s.flag, s.typeName(), s.usage, settingFoot(s))
	}
	fmt.Fprint(w, "\nEnvironment only (the Zoom app's credentials: the three ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and\nZOOM_CLIENT_SECRET of a Server-to-Server OAuth app, or ZOOM_API_KEY and ZOOM_API_SECRET of a\nlegacy JWT app; secrets are never logged):\n")
	for _, s := range envOnly {
		fmt.Fprintf(w, "  %s %s\n        %s%s\n", s.env, s.typeName(), s.usage, settingFoot(s))
	}
}

func settingFoot(s setting) string {
	var parts []string
	if s.def != "" {
		parts = append(parts, "default "+s.def)
	}
	if s.flag != "" {
		parts = append(parts, "env "+s.env)
	}
	if s.secret {
		parts = append(parts, "secret")
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// printFlags lists the flags of a tool command (dlq, submit): name, type,
// usage and default.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, "\nFlags:\n")
	fs.VisitAll(func(f *flag.Flag) {
		typ, usage := flag.UnquoteUsage(f)
		if typ != "" {
			typ = " " + typ
		}
		def := ""
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			def = " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(w, "  --%s%s\n        %s%s\n", f.Name, typ, usage, def)
	})
}
