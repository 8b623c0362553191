package reconcile

import (
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

// The rule grants the memberlist Secret and the password Secrets, sorted
// and each once, and always names them: a rule without resourceNames
// would grant every Secret of the namespace.
func TestSecretsRule(t *testing.T) {
	tests := []struct {
		name       string
		memberlist string
		passwords  []string
		want       []string
	}{
		{"memberlist only", "herald-memberlist", nil, []string{"herald-memberlist"}},
		{"sorted with the passwords", "herald-memberlist", []string{"tor-b", "tor-a"}, []string{"herald-memberlist", "tor-a", "tor-b"}},
		{"a password in the memberlist Secret", "shared", []string{"shared", "x"}, []string{"shared", "x"}},
		{"never empty", "", nil, []string{"herald-memberlist"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := secretsRule(tt.memberlist, tt.passwords)
			if !slices.Equal(r.ResourceNames, tt.want) {
				t.Errorf("resourceNames %v, want %v", r.ResourceNames, tt.want)
			}
			if !slices.Equal(r.Resources, []string{"secrets"}) || !slices.Equal(r.Verbs, []string{"get", "list", "watch"}) || !slices.Equal(r.APIGroups, []string{""}) {
				t.Errorf("rule %+v, want get, list and watch on core secrets", r)
			}
			// Recomputing from the result changes nothing.
			if !rulesEqual([]rbacv1.PolicyRule{r}, []rbacv1.PolicyRule{secretsRule(tt.memberlist, r.ResourceNames)}) {
				t.Errorf("recomputing changes the rule")
			}
		})
	}
	a := secretsRule("m", []string{"x"})
	b := a
	b.ResourceNames = []string{"m", "y"}
	if rulesEqual([]rbacv1.PolicyRule{a}, []rbacv1.PolicyRule{b}) {
		t.Errorf("rules naming other Secrets compare equal")
	}
}
