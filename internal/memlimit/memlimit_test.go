package memlimit

import "testing"

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    int64
		ok      bool
		wantErr bool
	}{
		{name: "no limit given", env: nil},
		{name: "container limit", env: map[string]string{EnvContainerLimit: "268435456"}, want: 241591910, ok: true},
		{name: "GOMEMLIMIT wins", env: map[string]string{EnvContainerLimit: "268435456", "GOMEMLIMIT": "100MiB"}},
		// A container without a limit gets the node's allocatable memory
		// from the downward API: still a number, still used.
		{name: "node allocatable", env: map[string]string{EnvContainerLimit: "8589934592"}, want: 7730941132, ok: true},
		{name: "not a number", env: map[string]string{EnvContainerLimit: "256Mi"}, wantErr: true},
		{name: "zero", env: map[string]string{EnvContainerLimit: "0"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := FromEnv(func(k string) string { return tt.env[k] })
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want || ok != tt.ok {
				t.Errorf("FromEnv = %d, %v; want %d, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
