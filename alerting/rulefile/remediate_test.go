package rulefile

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParse_Remediate(t *testing.T) {
	f := loadOK(t, "ok-remediate.yaml")
	rs := f.Groups[0].Rules
	rm := rs[0].Remediate
	if rm == nil || strings.Join(rm.Command, "|") != "/usr/local/bin/restart-webapp|--service|$(not a shell)" ||
		rm.Timeout != 30*time.Second || rm.Retries == nil || *rm.Retries != 2 || rm.Pause != 10*time.Second ||
		rm.VerifyAfter != time.Minute || rm.EscalateTo != "oncall" || rm.Line != 6 {
		t.Fatalf("webapp_uptime remediate = %+v", rm)
	}
	if rm := rs[1].Remediate; rm == nil || rm.Exec != "clean-tmp" || rm.Retries != nil {
		t.Fatalf("DiskFull remediate = %+v", rm)
	}
	if rm := rs[2].Remediate; rm == nil || !rm.Disabled {
		t.Fatalf("Noisy remediate = %+v", rm)
	}
	if rm := rs[3].Remediate; rm == nil || rm.Exec != "" || rm.Command != nil || *rm.Retries != 0 || rm.EscalateTo != "oncall" {
		t.Fatalf("HostSilent remediate = %+v", rm)
	}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestParse_RemediateBad(t *testing.T) {
	path := filepath.Join("testdata", "rules", "bad-remediate.yaml")
	_, err := Load(path)
	got := strings.Join(errorLines(t, err, path), "\n")
	want := strings.Join([]string{
		`6:5|remediate|Both|remediate: command and exec both set; give one`,
		`9:5|remediate|Bounds|remediate.timeout: 2h is outside 0 to 1h`,
		`9:5|remediate|Bounds|remediate.verify_after: 2d is outside 0 to 1d`,
		`9:5|remediate|Bounds|remediate.retries: 11 is outside 0 to 10`,
		`15:5|remediate|job:up|remediate: not allowed in a record rule (only alerts remediate)`,
		`18:16|remediate|Shapes|remediate: true says nothing to run; name an exec_configs entry or give a mapping`,
		`22:7|remediate|Unknown|remediate: unknown field "script" (want command, exec, timeout, retries, pause, verify_after or escalate_to)`,
		`25:16|remediate|Empty|remediate: the exec_configs name is empty`,
		`29:16|remediate|ListNotString|remediate.command: want a list, got "/bin/fix --now"`,
		`32:5|remediate|EmptyCommand|remediate.command: the list is empty`,
	}, "\n")
	if got != want {
		t.Fatalf("problems:\n%s\nwant:\n%s", got, want)
	}
}
