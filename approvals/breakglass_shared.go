package approvals

import "time"

// CheckSharedBreakGlass applies the break-glass rules (CheckBreakGlass:
// responder, flagged resource, fresh sign-in, justification, incident,
// window, limits of who's own organization) and the share's terms
// (Share.CheckAccess, read access: an active share of res with who's
// organization, who among its recipients) to who breaking glass on res, a
// resource of the share's owner. The owner's flag on res is its consent;
// the window (by default the shorter of the resource's break-glass maximum
// and the share's longest grant) also ends before the share's term does.
// It returns the window, or the first rule's apperr; nothing is issued then.
func CheckSharedBreakGlass(who Person, sh Share, res Resource, e Emergency, fresh bool, active InForce, l Limits, now time.Time) (time.Duration, error) {
	if e.Duration == 0 {
		e.Duration = min(res.BreakGlass.MaxDuration, sh.Terms.MaxGrant)
	}
	d, err := CheckBreakGlass(who, res, e, fresh, active, l)
	if err != nil {
		return 0, err
	}
	return sh.CheckAccess(who, res.ID, Read, d, now)
}
