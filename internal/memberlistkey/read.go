package memberlistkey

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/internal/kube"
)

// Read reads the keyring from the Secret name in Herald's namespace, for a
// speaker that is starting: every error is one it must not start with, and
// says how to create the Secret.
func Read(ctx context.Context, r client.Reader, name string) (Keyring, error) {
	create := fmt.Sprintf("create it with: kubectl create secret generic -n %s %s --from-literal=%s=\"$(openssl rand -base64 32)\"", kube.Namespace, name, DataKey)
	var sec corev1.Secret
	err := r.Get(ctx, client.ObjectKey{Namespace: kube.Namespace, Name: name}, &sec)
	if apierrors.IsNotFound(err) {
		return Keyring{}, fmt.Errorf("%w: Secret %s/%s does not exist; %s", ErrNoKey, kube.Namespace, name, create)
	}
	if err != nil {
		return Keyring{}, fmt.Errorf("read memberlist Secret %s/%s: %w", kube.Namespace, name, err)
	}
	k, err := Parse(sec.Data)
	if err != nil {
		return Keyring{}, fmt.Errorf("Secret %s/%s: %w; %s", kube.Namespace, name, err, create)
	}
	return k, nil
}
