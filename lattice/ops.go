package main

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/big"
	"math/bits"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/multiparty"
	"github.com/tuneinsight/lattigo/v6/ring"
	"github.com/tuneinsight/lattigo/v6/ring/ringqp"
	"github.com/tuneinsight/lattigo/v6/utils/sampling"
)

type operation func(ctx *context, args json.RawMessage, blobs [][]byte) (map[string]any, [][]byte, error)

var operations = map[string]operation{
	"keygen":         opKeygen,
	"pk_share":       opPublicKeyShare,
	"shamir_deal":    opShamirDeal,
	"encrypt_seeded": opEncryptSeeded,
	"encrypt_public": opEncryptPublic,
	"decrypt_share":  opDecryptShare,
	"combine":        opCombine,
}

func decodeArgs(args json.RawMessage, into any) error {
	if len(args) == 0 {
		return nil
	}
	if err := json.Unmarshal(args, into); err != nil {
		return fmt.Errorf("bad arguments: %v", err)
	}
	return nil
}

func needBlobs(blobs [][]byte, n int) error {
	if len(blobs) < n {
		return fmt.Errorf("expected at least %d blobs, got %d", n, len(blobs))
	}
	return nil
}

// secretKey reads a secret (or additive) key: one polynomial in Lattigo's NTT/Montgomery form.
func (c *context) secretKey(blob []byte) (*rlwe.SecretKey, error) {
	polys, err := c.readPolys(blob, 1)
	if err != nil {
		return nil, fmt.Errorf("secret key: %v", err)
	}
	sk := rlwe.NewSecretKey(c.params)
	sk.Value.Q.Copy(polys[0])
	return sk, nil
}

// keyedPRNG is the common random source for a seed and a domain-separating index, so that every
// party derives the same polynomial from a public seed.
func keyedPRNG(seed []byte, index int) (*sampling.KeyedPRNG, error) {
	if len(seed) != 32 {
		return nil, fmt.Errorf("seed must be 32 bytes, got %d", len(seed))
	}
	key := binary.LittleEndian.AppendUint32(append([]byte{}, seed...), uint32(index))
	return sampling.NewKeyedPRNG(key)
}

// commonPoly is the uniform polynomial number index of a seed, in the coefficient domain.
func (c *context) commonPoly(seed []byte, index int) (ring.Poly, error) {
	prng, err := keyedPRNG(seed, index)
	if err != nil {
		return ring.Poly{}, err
	}
	a := c.ringQ.NewPoly()
	ring.NewUniformSampler(prng, c.ringQ).Read(a)
	return a, nil
}

func opKeygen(ctx *context, _ json.RawMessage, _ [][]byte) (map[string]any, [][]byte, error) {
	sk := rlwe.NewKeyGenerator(ctx.params).GenSecretKeyNew()
	return map[string]any{}, [][]byte{ctx.writePolys([]ring.Poly{sk.Value.Q})}, nil
}

// opPublicKeyShare: blobs [secret key, crs seed] -> [share]; the share is -crp*s + e (NTT form).
func opPublicKeyShare(ctx *context, _ json.RawMessage, blobs [][]byte) (map[string]any, [][]byte, error) {
	if err := needBlobs(blobs, 2); err != nil {
		return nil, nil, err
	}
	sk, err := ctx.secretKey(blobs[0])
	if err != nil {
		return nil, nil, err
	}
	crs, err := keyedPRNG(blobs[1], 0)
	if err != nil {
		return nil, nil, err
	}
	ckg := multiparty.NewPublicKeyGenProtocol(ctx.params)
	crp := ckg.SampleCRP(crs)
	share := ckg.AllocateShare()
	ckg.GenShare(sk, crp, &share)
	return map[string]any{}, [][]byte{ctx.writePolys([]ring.Poly{share.Value.Q})}, nil
}

// opShamirDeal: blobs [secret key] -> one Shamir share per recipient point, degree threshold-1.
func opShamirDeal(ctx *context, args json.RawMessage, blobs [][]byte) (map[string]any, [][]byte, error) {
	var a struct {
		Threshold  int      `json:"threshold"`
		Recipients []uint64 `json:"recipients"`
	}
	if err := decodeArgs(args, &a); err != nil {
		return nil, nil, err
	}
	if err := needBlobs(blobs, 1); err != nil {
		return nil, nil, err
	}
	if a.Threshold < 1 || a.Threshold > len(a.Recipients) {
		return nil, nil, fmt.Errorf("threshold %d out of range for %d recipients", a.Threshold, len(a.Recipients))
	}
	sk, err := ctx.secretKey(blobs[0])
	if err != nil {
		return nil, nil, err
	}
	thr := multiparty.NewThresholdizer(ctx.params)
	poly, err := thr.GenShamirPolynomial(a.Threshold, sk)
	if err != nil {
		return nil, nil, err
	}
	out := make([][]byte, len(a.Recipients))
	for i, point := range a.Recipients {
		if point == 0 {
			return nil, nil, fmt.Errorf("recipient point 0 would reveal the secret")
		}
		share := thr.AllocateThresholdSecretShare()
		thr.GenShamirSecretShare(multiparty.ShamirPublicPoint(point), poly, &share)
		out[i] = ctx.writePolys([]ring.Poly{share.Poly.Q})
	}
	return map[string]any{}, out, nil
}

// opEncryptSeeded: blobs [secret key, round seed, values] -> [c0 polys]; c1 of polynomial p is
// the common polynomial p of the round seed, so it never travels.
func opEncryptSeeded(ctx *context, _ json.RawMessage, blobs [][]byte) (map[string]any, [][]byte, error) {
	if err := needBlobs(blobs, 3); err != nil {
		return nil, nil, err
	}
	sk, err := ctx.secretKey(blobs[0])
	if err != nil {
		return nil, nil, err
	}
	values, err := readInt64s(blobs[2])
	if err != nil || len(values) == 0 {
		return nil, nil, fmt.Errorf("no values to encrypt")
	}
	prng, err := sampling.NewPRNG()
	if err != nil {
		return nil, nil, err
	}
	noise, err := ring.NewSampler(prng, ctx.ringQ, ctx.params.Xe(), false)
	if err != nil {
		return nil, nil, err
	}
	polys := ctx.encode(values, ctx.polyCount(len(values)))
	buf := ctx.ringQ.NewPoly()
	for p := range polys {
		a, err := ctx.commonPoly(blobs[1], p)
		if err != nil {
			return nil, nil, err
		}
		// c0 = delta*m - a*s + e
		ctx.ringQ.NTT(a, buf)
		ctx.ringQ.MulCoeffsMontgomery(buf, sk.Value.Q, buf)
		ctx.ringQ.INTT(buf, buf)
		ctx.ringQ.Sub(polys[p], buf, polys[p])
		noise.ReadAndAdd(polys[p])
	}
	return map[string]any{}, [][]byte{ctx.writePolys(polys)}, nil
}

// opEncryptPublic: blobs [collective key share sum, crs seed, values] -> [c0 polys, c1 polys].
func opEncryptPublic(ctx *context, _ json.RawMessage, blobs [][]byte) (map[string]any, [][]byte, error) {
	if err := needBlobs(blobs, 3); err != nil {
		return nil, nil, err
	}
	p0, err := ctx.readPolys(blobs[0], 1)
	if err != nil {
		return nil, nil, fmt.Errorf("collective key: %v", err)
	}
	crs, err := keyedPRNG(blobs[1], 0)
	if err != nil {
		return nil, nil, err
	}
	values, err := readInt64s(blobs[2])
	if err != nil || len(values) == 0 {
		return nil, nil, fmt.Errorf("no values to encrypt")
	}
	ckg := multiparty.NewPublicKeyGenProtocol(ctx.params)
	crp := ckg.SampleCRP(crs)
	pk := rlwe.NewPublicKey(ctx.params)
	ckg.GenPublicKey(multiparty.PublicKeyGenShare{Value: ringqp.Poly{Q: p0[0]}}, crp, pk)
	enc := rlwe.NewEncryptor(ctx.params, pk)
	polys := ctx.encode(values, ctx.polyCount(len(values)))
	c0s, c1s := make([]ring.Poly, len(polys)), make([]ring.Poly, len(polys))
	for p := range polys {
		ct := rlwe.NewCiphertext(ctx.params, 1, ctx.params.MaxLevel())
		if err := enc.EncryptZero(ct); err != nil {
			return nil, nil, err
		}
		ctx.ringQ.Add(ct.Value[0], polys[p], ct.Value[0])
		c0s[p], c1s[p] = ct.Value[0], ct.Value[1]
	}
	return map[string]any{}, [][]byte{ctx.writePolys(c0s), ctx.writePolys(c1s)}, nil
}

type decryptArgs struct {
	Own       uint64   `json:"own"`
	Actives   []uint64 `json:"actives"`
	Threshold int      `json:"threshold"`
	Dealers   int      `json:"dealers"`
	Polys     int      `json:"polys"`
	FloodBits int      `json:"flood_bits"`
	Seeded    bool     `json:"seeded"`
}

// additiveShare sums the Shamir shares received from the dealers whose keys the ciphertext is
// under, then weights the sum by this party's Lagrange coefficient for the active set.
func (c *context) additiveShare(a decryptArgs, shares [][]byte) (*rlwe.SecretKey, error) {
	if a.Threshold < 1 || len(a.Actives) != a.Threshold {
		return nil, fmt.Errorf("need exactly %d active decryptors, got %d", a.Threshold, len(a.Actives))
	}
	found := false
	for _, p := range a.Actives {
		found = found || p == a.Own
	}
	if !found || a.Own == 0 {
		return nil, fmt.Errorf("party %d is not among the active decryptors", a.Own)
	}
	sum := c.ringQ.NewPoly()
	for i, blob := range shares {
		polys, err := c.readPolys(blob, 1)
		if err != nil {
			return nil, fmt.Errorf("Shamir share %d: %v", i, err)
		}
		c.ringQ.Add(sum, polys[0], sum)
	}
	points := make([]multiparty.ShamirPublicPoint, len(a.Actives))
	for i, p := range a.Actives {
		points[i] = multiparty.ShamirPublicPoint(p)
	}
	own := multiparty.ShamirPublicPoint(a.Own)
	cmb := multiparty.NewCombiner(c.params, own, points, a.Threshold)
	sk := rlwe.NewSecretKey(c.params)
	share := multiparty.ShamirSecretShare{Poly: ringqp.Poly{Q: sum}}
	if err := cmb.GenAdditiveShare(points, own, share, sk); err != nil {
		return nil, err
	}
	return sk, nil
}

// opDecryptShare: blobs [c1 source, Shamir share per dealer...] -> [share polys]. The c1 source
// is the round seed (seeded) or the c1 polynomials. Each share is c1*s_j + flood, the flood
// uniform in [-2^flood_bits, 2^flood_bits).
func opDecryptShare(ctx *context, args json.RawMessage, blobs [][]byte) (map[string]any, [][]byte, error) {
	var a decryptArgs
	if err := decodeArgs(args, &a); err != nil {
		return nil, nil, err
	}
	if err := needBlobs(blobs, 2); err != nil {
		return nil, nil, err
	}
	if a.Dealers != len(blobs)-1 || a.Polys < 1 || a.FloodBits < 1 || a.FloodBits > 126 {
		return nil, nil, fmt.Errorf("inconsistent decryption request")
	}
	sk, err := ctx.additiveShare(a, blobs[1:])
	if err != nil {
		return nil, nil, err
	}
	var c1s []ring.Poly
	if !a.Seeded {
		if c1s, err = ctx.readPolys(blobs[0], a.Polys); err != nil {
			return nil, nil, fmt.Errorf("c1: %v", err)
		}
	}
	out := make([]ring.Poly, a.Polys)
	for p := range out {
		var c1 ring.Poly
		if a.Seeded {
			if c1, err = ctx.commonPoly(blobs[0], p); err != nil {
				return nil, nil, err
			}
		} else {
			c1 = c1s[p]
		}
		out[p] = ctx.ringQ.NewPoly()
		ctx.ringQ.NTT(c1, out[p])
		ctx.ringQ.MulCoeffsMontgomery(out[p], sk.Value.Q, out[p])
		ctx.ringQ.INTT(out[p], out[p])
		if err := ctx.addFlood(out[p], a.FloodBits); err != nil {
			return nil, nil, err
		}
	}
	return map[string]any{}, [][]byte{ctx.writePolys(out)}, nil
}

// addFlood adds to every coefficient an independent integer uniform in [-2^b, 2^b), drawn from
// the operating system's CSPRNG, reduced modulo each q_i.
func (c *context) addFlood(p ring.Poly, b int) error {
	moduli := c.ringQ.ModuliChain()
	raw := make([]byte, 16*c.n)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	// u is uniform in [0, 2^(b+1)); the flood is u - 2^b.
	maskHi, maskLo := uint64(0), ^uint64(0)
	if b+1 < 64 {
		maskLo = (uint64(1) << (b + 1)) - 1
	} else if b+1 < 128 {
		maskHi = (uint64(1) << (b + 1 - 64)) - 1
	} else {
		maskHi = ^uint64(0)
	}
	for i, q := range moduli {
		var offHi, offLo uint64
		if b < 64 {
			offLo = uint64(1) << b
		} else {
			offHi = uint64(1) << (b - 64)
		}
		off := bits.Rem64(offHi%q, offLo, q)
		row := p.Coeffs[i]
		for k := range row {
			lo := binary.LittleEndian.Uint64(raw[16*k:]) & maskLo
			hi := binary.LittleEndian.Uint64(raw[16*k+8:]) & maskHi
			u := bits.Rem64(hi%q, lo, q)
			v := (u + q - off) % q
			row[k] = (row[k] + v) % q
		}
	}
	return nil
}

// opCombine: blobs [aggregate c0, decryption share...] -> [values]; the shares must come from
// exactly the active set the decryptors used.
func opCombine(ctx *context, args json.RawMessage, blobs [][]byte) (map[string]any, [][]byte, error) {
	var a struct {
		Values     int    `json:"values"`
		NoiseBound string `json:"noise_bound"`
	}
	if err := decodeArgs(args, &a); err != nil {
		return nil, nil, err
	}
	if err := needBlobs(blobs, 2); err != nil {
		return nil, nil, err
	}
	count := ctx.polyCount(a.Values)
	if a.Values < 1 {
		return nil, nil, fmt.Errorf("no values to combine")
	}
	acc, err := ctx.readPolys(blobs[0], count)
	if err != nil {
		return nil, nil, fmt.Errorf("aggregate: %v", err)
	}
	for i, blob := range blobs[1:] {
		share, err := ctx.readPolys(blob, count)
		if err != nil {
			return nil, nil, fmt.Errorf("decryption share %d: %v", i, err)
		}
		for p := range acc {
			ctx.ringQ.Add(acc[p], share[p], acc[p])
		}
	}
	bound, ok := new(big.Int).SetString(a.NoiseBound, 10)
	if !ok || bound.Sign() <= 0 {
		return nil, nil, fmt.Errorf("bad noise bound %q", a.NoiseBound)
	}
	values, err := ctx.decode(acc, a.Values, bound)
	if err != nil {
		return nil, nil, err
	}
	return map[string]any{}, [][]byte{writeInt64s(values)}, nil
}
