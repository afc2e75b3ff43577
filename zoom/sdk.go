package zoom

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Meeting SDK signatures: a web or native app that joins a meeting with
// Zoom's Meeting SDK authorizes itself with a JWT that only a server may
// make, since it is signed with the SDK app's secret. Zoom's Meeting SDK
// authorization (developers.zoom.us/docs/meeting-sdk/auth) asks for an
// HS256 JWT with these claims:
//
//	appKey    the SDK key (a Meeting SDK app's client id)
//	sdkKey    the same key, as older SDK versions read it
//	mn        the meeting (or webinar) number
//	role      0 to join as a participant, 1 to start or join as the host (with the host's ZAK)
//	iat       issued at, Unix seconds
//	exp       expiry, Unix seconds: at least 30 minutes and at most 48 hours after iat
//	tokenExp  the same as exp

// Limits Zoom sets on a Meeting SDK signature's lifetime.
const (
	SDKSignatureMinTTL = 30 * time.Minute
	SDKSignatureMaxTTL = 48 * time.Hour
	// SDKSignatureTTL is the lifetime MeetingSDKSignature gives when asked
	// for none, as Zoom's own samples do.
	SDKSignatureTTL = 2 * time.Hour
)

// Meeting SDK roles.
const (
	SDKRoleParticipant = 0
	SDKRoleHost        = 1
)

// SDKSignature is a Meeting SDK signature and when it expires.
type SDKSignature struct {
	Token     string
	ExpiresAt time.Time
}

// MeetingSDKSignature signs a Meeting SDK JWT for meeting number mn and
// role with the SDK app's key and secret. iat is backdated 30 s from now,
// as Zoom advises, against clocks that run behind; ttl 0 means
// SDKSignatureTTL, and a ttl outside Zoom's 30 min..48 h is an error, as
// are an empty key or secret, mn ≤ 0 and a role other than 0 or 1.
func MeetingSDKSignature(key, secret string, mn int64, role int, now time.Time, ttl time.Duration) (SDKSignature, error) {
	switch {
	case key == "" || secret == "":
		return SDKSignature{}, errors.New("zoom: sdk signature: no SDK key or secret")
	case mn <= 0:
		return SDKSignature{}, fmt.Errorf("zoom: sdk signature: meeting number %d is not a Zoom meeting number", mn)
	case role != SDKRoleParticipant && role != SDKRoleHost:
		return SDKSignature{}, fmt.Errorf("zoom: sdk signature: role %d is neither 0 (participant) nor 1 (host)", role)
	}
	if ttl == 0 {
		ttl = SDKSignatureTTL
	}
	if ttl < SDKSignatureMinTTL || ttl > SDKSignatureMaxTTL {
		return SDKSignature{}, fmt.Errorf("zoom: sdk signature: lifetime %s is outside Zoom's %s to %s", ttl, SDKSignatureMinTTL, SDKSignatureMaxTTL)
	}
	iat := now.Add(-30 * time.Second).Unix()
	exp := iat + int64(ttl/time.Second)
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"appKey": key, "sdkKey": key, "mn": mn, "role": role,
		"iat": iat, "exp": exp, "tokenExp": exp,
	})
	s, err := tok.SignedString([]byte(secret))
	if err != nil {
		return SDKSignature{}, fmt.Errorf("zoom: sdk signature: %w", err)
	}
	return SDKSignature{Token: s, ExpiresAt: time.Unix(exp, 0).UTC()}, nil
}
