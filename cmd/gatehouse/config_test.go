package main

import (
	"strings"
	"testing"
	"time"
)

// TestNoticeRetentionSetting: notices are kept 400 days unless
// GATEHOUSE_NOTICE_RETENTION_DAYS (or the flag, which wins) says
// otherwise; a retention under 30 days, or not a whole number of days, is
// refused with the reason.
func TestNoticeRetentionSetting(t *testing.T) {
	const day = 24 * time.Hour
	t.Setenv("GATEHOUSE_NOTICE_RETENTION_DAYS", "")
	c, err := parseConfig("serve", nil)
	if err != nil || c.NoticeRetention != 400*day {
		t.Fatalf("default notice retention = %s (%v), want 400 days", c.NoticeRetention, err)
	}
	t.Setenv("GATEHOUSE_NOTICE_RETENTION_DAYS", "90")
	if c, err = parseConfig("serve", nil); err != nil || c.NoticeRetention != 90*day {
		t.Fatalf("GATEHOUSE_NOTICE_RETENTION_DAYS=90: %s (%v)", c.NoticeRetention, err)
	}
	if c, err = parseConfig("serve", []string{"--notice-retention-days", "730"}); err != nil || c.NoticeRetention != 730*day {
		t.Fatalf("--notice-retention-days 730 over the environment's 90: %s (%v)", c.NoticeRetention, err)
	}
	for _, bad := range []string{"29", "0", "-400", "400d", "9600h", "36501"} {
		if _, err := parseConfig("serve", []string{"--notice-retention-days", bad}); err == nil || !strings.Contains(err.Error(), "notice retention") {
			t.Errorf("notice retention %q: %v, want it refused", bad, err)
		}
	}
}
