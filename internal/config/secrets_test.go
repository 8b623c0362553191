package config

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/api/v1beta1"
)

func TestPasswordSecrets(t *testing.T) {
	peer := func(name string, ref *v1beta1.SecretRef) v1beta1.BGPPeer {
		return v1beta1.BGPPeer{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1beta1.BGPPeerSpec{PasswordSecret: ref}}
	}
	ref := func(ns, name string) *v1beta1.SecretRef { return &v1beta1.SecretRef{Namespace: ns, Name: name} }
	tests := []struct {
		name  string
		peers []v1beta1.BGPPeer
		want  []string
	}{
		{"none", nil, nil},
		{"no password", []v1beta1.BGPPeer{peer("a", nil)}, nil},
		{"sorted, each once", []v1beta1.BGPPeer{peer("a", ref("herald-system", "tor-b")), peer("b", ref("herald-system", "tor-a")), peer("c", ref("herald-system", "tor-b"))}, []string{"tor-a", "tor-b"}},
		{"another namespace is never granted", []v1beta1.BGPPeer{peer("a", ref("default", "tor")), peer("b", ref("herald-system", "x"))}, []string{"x"}},
		{"an empty name", []v1beta1.BGPPeer{peer("a", ref("herald-system", ""))}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PasswordSecrets(tt.peers, "herald-system")
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			// Order must not matter.
			rev := slices.Clone(tt.peers)
			slices.Reverse(rev)
			if again := PasswordSecrets(rev, "herald-system"); !slices.Equal(again, got) {
				t.Errorf("reversed peers give %v, want %v", again, got)
			}
		})
	}
}
