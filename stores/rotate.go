package stores

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/apperr"
	"github.com/gatehouse/gatehouse/audit"
	"github.com/gatehouse/gatehouse/secretstores"
	"github.com/gatehouse/gatehouse/tenants"
)

// Rotation is one rotation of a cloud secret on demand.
type Rotation struct {
	Secret    string
	Generator secretstores.Generator
	// Value, when set, is written instead of a generated one (a value
	// issued elsewhere, e.g. by a provider's console).
	Value string
	// VerifyURL, when set, is POSTed {"binding","secret","version"} (never
	// the value) after the write; anything but a 2xx answer within 10
	// seconds puts the previous version back.
	VerifyURL string
}

// Rotated says what a rotation did.
type Rotated struct {
	Previous, Current string // version IDs
}

// ErrVerification: the verification webhook refused the new version, which
// was rolled back.
var ErrVerification = errors.New("the verification webhook refused the new value")

// Rotate writes a new value (r.Value, or one generated under r.Generator)
// of r.Secret in the tenant's binding as
// the current version, keeping the previous one (labelled previous where
// the store has labels), verifies it with r.VerifyURL, and rolls back when
// verification fails, so a failed rotation leaves the old version current.
// The outcome is audited with the versions, never the value; without
// s.Audit it refuses before touching the store.
func (s *Service) Rotate(ctx context.Context, tenantID, bindingID string, r Rotation, actor string, meta audit.Meta) (Rotated, error) {
	if s.Audit == nil { // a wiring fault: a rotation is never left unaudited
		return Rotated{}, errors.New("stores: Rotate needs Service.Audit")
	}
	f := map[string]string{}
	if r.Value == "" {
		if err := r.Generator.Validate(); err != nil {
			f["length"] = "A generated value is 16–256 characters from an alphabet of at least 10."
		}
	} else if len(r.Value) > 64*1024 {
		f["value"] = "A value is at most 64 KiB."
	}
	if r.VerifyURL != "" && !tenants.VerifiableURL(r.VerifyURL) {
		f["verify_url"] = "Give an https URL (http only on loopback), or leave it empty."
	}
	if len(f) > 0 {
		return Rotated{}, apperr.InvalidFields("The rotation needs correcting.", f)
	}
	var out Rotated
	err := s.WithCloudStore(ctx, tenantID, bindingID, func(st secretstores.Store) error {
		m, err := st.Describe(ctx, r.Secret)
		if err != nil {
			return err
		}
		out.Previous = m.CurrentVersion
		value := r.Value
		if value == "" {
			if value, err = r.Generator.Generate(); err != nil {
				return err
			}
		}
		if out.Current, err = st.Write(ctx, r.Secret, value); err != nil {
			return err
		}
		if r.VerifyURL == "" {
			return nil
		}
		verr := verify(ctx, r.VerifyURL, bindingID, r.Secret, out.Current)
		if verr == nil {
			return nil
		}
		if rerr := st.Restore(context.WithoutCancel(ctx), r.Secret, out.Previous); rerr != nil {
			return fmt.Errorf("%w (%v), and putting version %s back failed: %v", ErrVerification, verr, out.Previous, rerr)
		}
		return fmt.Errorf("%w (%v); version %s is current again", ErrVerification, verr, out.Previous)
	})
	ev := audit.Event{TenantID: tenantID, Actor: actor, Action: "secret.rotated", Target: bindingID + " " + r.Secret, Outcome: audit.Success,
		Detail: map[string]string{"previous": out.Previous, "current": out.Current}}
	if err != nil {
		ev.Outcome, ev.Detail["error"] = audit.Failure, err.Error()
	}
	if aerr := s.Audit.RecordEvent(ctx, meta.Stamp(ev)); aerr != nil && err == nil {
		err = aerr
	}
	if err != nil && apperr.As(err) == nil {
		if errors.Is(err, secretstores.ErrNotFound) {
			return out, apperr.Wrap(apperr.NotFound, "There is no such secret in the store.", err)
		}
		return out, apperr.Wrap(apperr.Unavailable, "The rotation did not complete: "+err.Error(), err)
	}
	return out, err
}

func verify(ctx context.Context, target, binding, secret, version string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	body, _ := json.Marshal(map[string]string{"binding": binding, "secret": secret, "version": version})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("calling it: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("it answered HTTP %d", resp.StatusCode)
	}
	return nil
}
