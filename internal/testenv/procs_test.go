package testenv

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestOutageKeepsState stops etcd and the apiserver, checks that the API is
// gone, starts them again and checks that what was stored survived.
func TestOutageKeepsState(t *testing.T) {
	e := StartForTest(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "survivor"}, Data: map[string]string{"k": "v"}}
	if err := e.Client.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	before, err := e.findServers()
	if err != nil {
		t.Fatal(err)
	}
	restart, err := e.Outage()
	if err != nil {
		t.Fatal(err)
	}
	short, cancelShort := context.WithTimeout(ctx, 2*time.Second)
	err = e.Client.Get(short, client.ObjectKeyFromObject(cm), &corev1.ConfigMap{})
	cancelShort()
	if err == nil {
		t.Fatal("the apiserver answered during the outage")
	}
	if err := restart(ctx); err != nil {
		t.Fatal(err)
	}
	var got corev1.ConfigMap
	if err := e.Client.Get(ctx, client.ObjectKeyFromObject(cm), &got); err != nil || got.Data["k"] != "v" {
		t.Fatalf("after the outage: %+v, %v; want the ConfigMap kept", got.Data, err)
	}
	after, err := e.findServers()
	if err != nil {
		t.Fatal(err)
	}
	for i := range after {
		if after[i].pid == before[i].pid {
			t.Errorf("%s was not restarted (pid %d)", after[i].name, after[i].pid)
		}
	}
	// A second outage finds the restarted servers.
	restart, err = e.Outage()
	if err != nil {
		t.Fatal(err)
	}
	if err := restart(ctx); err != nil {
		t.Fatal(err)
	}
}
