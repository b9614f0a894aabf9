package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// envAnnotation marks a flag that a LAKECTL_* variable sets when the flag is not given.
const envAnnotation = "lakectl_env"

// bindEnv lets variable give the value of flag when the command line does not, and
// names the variable in the flag's help, so that --help shows every variable.
func bindEnv(fs *pflag.FlagSet, flag, variable string) {
	f := fs.Lookup(flag)
	f.Usage += " ($" + variable + ")"
	fs.SetAnnotation(flag, envAnnotation, []string{variable})
}

// applyEnv sets each flag of cmd that was not given from its variable, before the
// command runs. The flag parses the value, so a value it does not accept
// (LAKECTL_GRACE=5) is an error naming the variable rather than a silent fallback to
// the default. The flag stays "not changed": lakectl.yaml settings that the pipeline
// loader overrides from the same variables keep their order, flag > variable > file.
func applyEnv(cmd *cobra.Command) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		vars := f.Annotations[envAnnotation]
		if err != nil || f.Changed || len(vars) == 0 {
			return
		}
		v := os.Getenv(vars[0])
		if v == "" {
			return
		}
		values := []string{v}
		if f.Value.Type() == "stringArray" {
			// Repeatable flags take a comma-separated list from the environment.
			values = strings.Split(v, ",")
		}
		for _, x := range values {
			if serr := f.Value.Set(x); serr != nil {
				err = usageErrorf(fmt.Sprintf("fix or unset %s; it gives --%s", vars[0], f.Name),
					"$%s=%q: %v", vars[0], v, serr)
				return
			}
		}
	})
	return err
}
