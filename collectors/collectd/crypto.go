package collectd

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"hash"
)

// Layout of the security parts.
//
//	signature  0x0200 len | HMAC-SHA-256 (32) | user (len-36 bytes, no NUL)
//	           the HMAC, keyed with the password, covers user || rest of packet
//	encryption 0x0210 len | user len (u16) | user | IV (16) |
//	           AES-256-OFB(key SHA-256(password), IV) of SHA-1(plain) (20) || plain
const (
	signHeaderLen = 4 + sha256.Size
	encrHeaderLen = 4 + 2 + aes.BlockSize + sha1.Size
	maxUsers      = 1024 // cached user keys before the cache is cleared
)

// userKey holds the keys derived from one user's password, so that a warm
// Parser verifies and decrypts without allocating.
type userKey struct {
	password string
	mac      hash.Hash    // HMAC-SHA-256 keyed with the password
	block    cipher.Block // AES-256 keyed with SHA-256(password)
}

// key returns the cached keys of user, rebuilt when the password changed.
func (p *Parser) key(user, password string) *userKey {
	k := p.keys[user]
	if k == nil || k.password != password {
		if len(p.keys) >= maxUsers {
			clear(p.keys)
		}
		k = &userKey{password: password}
		p.keys[user] = k
	}
	return k
}

// verify checks the signature part at the start of rest and, when it
// holds, parses the rest of the packet as signed. collectd drops the whole
// rest when the user is unknown or the signature does not match.
func (p *Parser) verify(rest []byte, d int, sec secFlags, res *Result, nested *error, emit func(*ValueList)) error {
	n := int(binary.BigEndian.Uint16(rest[2:]))
	user := p.intern(rest[signHeaderLen:n])
	password, ok := p.auth.Password(user)
	if !ok {
		return fmt.Errorf("user %q: %w", user, ErrUnknownUser)
	}
	k := p.key(user, password)
	if k.mac == nil {
		k.mac = hmac.New(sha256.New, []byte(password))
	}
	k.mac.Reset()
	k.mac.Write(rest[signHeaderLen:])
	if !hmac.Equal(k.mac.Sum(p.sum[:0]), rest[4:signHeaderLen]) {
		return fmt.Errorf("user %q: %w", user, ErrBadSignature)
	}
	sec.signed = true
	return p.walk(rest[n:], d+1, sec, res, nested, emit)
}

// decrypt decrypts the encryption part and parses its plaintext. err is an
// error of the part itself, which stops the packet; inner is an error inside
// the plaintext, after which collectd goes on with the next part.
func (p *Parser) decrypt(part []byte, d int, sec secFlags, res *Result, emit func(*ValueList)) (inner, err error) {
	n := len(part)
	if n <= encrHeaderLen {
		return nil, fmt.Errorf("length %d: %w", n, ErrMalformed)
	}
	ulen := int(binary.BigEndian.Uint16(part[4:]))
	if ulen == 0 || ulen > n-encrHeaderLen-1 {
		return nil, fmt.Errorf("user name length %d: %w", ulen, ErrMalformed)
	}
	if p.auth == nil {
		return nil, ErrNoAuthFile
	}
	user := p.intern(part[6 : 6+ulen])
	password, ok := p.auth.Password(user)
	if !ok {
		return nil, fmt.Errorf("user %q: %w", user, ErrUnknownUser)
	}
	k := p.key(user, password)
	if k.block == nil {
		sum := sha256.Sum256([]byte(password))
		k.block, _ = aes.NewCipher(sum[:]) // cannot fail: the key is 32 bytes
	}
	iv := part[6+ulen : 6+ulen+aes.BlockSize]
	ct := part[6+ulen+aes.BlockSize:]
	if d+1 > maxDepth {
		return nil, fmt.Errorf("nesting deeper than %d: %w", maxDepth, ErrMalformed)
	}
	buf := p.plain[d+1]
	if cap(buf) < len(ct) {
		buf = make([]byte, len(ct), max(len(ct), 2048))
	}
	buf = buf[:len(ct)]
	p.plain[d+1] = buf
	xorOFB(k.block, iv, buf, ct, &p.ks)
	plain := buf[sha1.Size:]
	if sum := sha1.Sum(plain); subtle.ConstantTimeCompare(sum[:], buf[:sha1.Size]) != 1 {
		return nil, fmt.Errorf("user %q: %w", user, ErrDecrypt)
	}
	sec.encrypted = true
	var deeper error
	if err := p.walk(plain, d+1, sec, res, &deeper, emit); err != nil {
		return err, nil
	}
	return deeper, nil
}

// xorOFB XORs src with the AES output-feedback key stream of iv into dst,
// which encrypts and decrypts alike. It is cipher.NewOFB without the
// allocation (and without that function's deprecation: collectd's protocol
// fixes the mode, integrity comes from the SHA-1 inside).
// ks is the scratch key-stream block (kept by the caller: a local array
// would escape through the cipher.Block interface).
func xorOFB(b cipher.Block, iv, dst, src []byte, ks *[aes.BlockSize]byte) {
	copy(ks[:], iv)
	for i := 0; i < len(src); i += aes.BlockSize {
		b.Encrypt(ks[:], ks[:])
		end := min(i+aes.BlockSize, len(src))
		subtle.XORBytes(dst[i:end], src[i:end], ks[:end-i])
	}
}
