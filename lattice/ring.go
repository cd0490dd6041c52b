package main

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"math/bits"
	"sync"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/ring"
)

const helperVersion = 1

// ringSpec is the parameter set as Python states it: ring degree, ciphertext moduli and
// plaintext modulus. Python chooses and checks them; this side only builds the ring.
type ringSpec struct {
	LogN      int      `json:"log_n"`
	Moduli    []uint64 `json:"moduli"`
	Plaintext uint64   `json:"plaintext_modulus"`
}

// context is the ring of one parameter set with the constants encoding needs.
type context struct {
	params rlwe.Parameters
	ringQ  *ring.Ring
	n      int
	t      uint64
	bigQ   *big.Int
	delta  *big.Int // floor(Q / t): the BFV scaling of the plaintext
	deltaR []uint64 // delta mod q_i
}

var (
	cacheMu sync.Mutex
	cache   = map[string]*context{}
)

func (s ringSpec) context() (*context, error) {
	key := fmt.Sprint(s.LogN, s.Moduli, s.Plaintext)
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if ctx, ok := cache[key]; ok {
		return ctx, nil
	}
	if s.LogN < 10 || s.LogN > 16 || len(s.Moduli) == 0 || len(s.Moduli) > 4 || s.Plaintext < 2 {
		return nil, fmt.Errorf("parameters out of range: log_n %d, %d moduli, t %d",
			s.LogN, len(s.Moduli), s.Plaintext)
	}
	params, err := rlwe.NewParametersFromLiteral(rlwe.ParametersLiteral{
		LogN: s.LogN, Q: s.Moduli, NTTFlag: false,
	})
	if err != nil {
		return nil, fmt.Errorf("invalid ring parameters: %v", err)
	}
	ctx := &context{params: params, ringQ: params.RingQ(), n: params.N(), t: s.Plaintext}
	ctx.bigQ = params.RingQ().ModulusAtLevel[params.MaxLevel()]
	ctx.delta = new(big.Int).Quo(ctx.bigQ, new(big.Int).SetUint64(s.Plaintext))
	for _, q := range s.Moduli {
		ctx.deltaR = append(ctx.deltaR, new(big.Int).Mod(ctx.delta, new(big.Int).SetUint64(q)).Uint64())
	}
	cache[key] = ctx
	return ctx, nil
}

// polyBytes is the size of one polynomial on the wire: every residue as a u64.
func (c *context) polyBytes() int { return 8 * c.n * len(c.deltaR) }

// readPolys parses count polynomials laid out [poly][modulus][coefficient], refusing residues
// that are not reduced (Python's parser already refused them; this guards the helper itself).
func (c *context) readPolys(blob []byte, count int) ([]ring.Poly, error) {
	if count < 1 || len(blob) != count*c.polyBytes() {
		return nil, fmt.Errorf("expected %d polynomials (%d bytes), got %d bytes",
			count, count*c.polyBytes(), len(blob))
	}
	moduli := c.ringQ.ModuliChain()
	polys := make([]ring.Poly, count)
	off := 0
	for p := range polys {
		polys[p] = c.ringQ.NewPoly()
		for i, q := range moduli {
			row := polys[p].Coeffs[i]
			for k := range row {
				v := binary.LittleEndian.Uint64(blob[off:])
				if v >= q {
					return nil, fmt.Errorf("polynomial %d: residue %d mod q%d is not reduced", p, k, i)
				}
				row[k] = v
				off += 8
			}
		}
	}
	return polys, nil
}

func (c *context) writePolys(polys []ring.Poly) []byte {
	out := make([]byte, 0, len(polys)*c.polyBytes())
	for _, p := range polys {
		for i := range c.deltaR {
			for _, v := range p.Coeffs[i] {
				out = binary.LittleEndian.AppendUint64(out, v)
			}
		}
	}
	return out
}

// polyCount is how many polynomials carry n values.
func (c *context) polyCount(values int) int { return (values + c.n - 1) / c.n }

// encode writes delta * m (m signed, |m| < t/2) into count polynomials, zero-padded.
func (c *context) encode(values []int64, count int) []ring.Poly {
	moduli := c.ringQ.ModuliChain()
	polys := make([]ring.Poly, count)
	for p := range polys {
		polys[p] = c.ringQ.NewPoly()
	}
	for j, m := range values {
		p, k := j/c.n, j%c.n
		for i, q := range moduli {
			r := uint64(m) % q
			if m < 0 {
				r = q - (uint64(-m) % q)
				if r == q {
					r = 0
				}
			}
			hi, lo := bits.Mul64(r, c.deltaR[i])
			polys[p].Coeffs[i][k] = bits.Rem64(hi, lo, q)
		}
	}
	return polys
}

// decode rounds every coefficient x (centred mod Q) to m = round(x*t/Q), the plaintext sum. It
// refuses a coefficient whose noise |x - delta*m| exceeds noiseBound or a padding coefficient
// that is not zero: an honest decryption never does, while a wrong share (or the wrong round's
// seed) leaves noise uniform below delta/2, which passes the bound for one coefficient with
// probability about noiseBound/(delta/2) and for all of them together practically never.
func (c *context) decode(polys []ring.Poly, values int, noiseBound *big.Int) ([]int64, error) {
	coeffs := make([]*big.Int, c.n)
	for k := range coeffs {
		coeffs[k] = new(big.Int)
	}
	out := make([]int64, values)
	t := new(big.Int).SetUint64(c.t)
	halfQ := new(big.Int).Rsh(c.bigQ, 1)
	half := int64(c.t / 2)
	x, e := new(big.Int), new(big.Int)
	for p, poly := range polys {
		c.ringQ.PolyToBigintCentered(poly, 1, coeffs)
		for k := 0; k < c.n; k++ {
			// round(x*t/Q) = floor((x*t + Q/2) / Q), with floor division for negative x.
			x.Mul(coeffs[k], t)
			x.Add(x, halfQ)
			x.Div(x, c.bigQ)
			e.Mul(x, c.delta)
			e.Sub(coeffs[k], e)
			index := p*c.n + k
			if e.CmpAbs(noiseBound) > 0 {
				return nil, fmt.Errorf("value %d decrypts with noise beyond the bound: a wrong share or ciphertext", index)
			}
			if index >= values {
				if x.Sign() != 0 {
					return nil, fmt.Errorf("padding coefficient %d decrypts to non-zero: a wrong share or ciphertext", index)
				}
				continue
			}
			if !x.IsInt64() || x.Int64() > half || x.Int64() < -half {
				return nil, fmt.Errorf("value %d decodes outside the plaintext range", index)
			}
			out[index] = x.Int64()
		}
	}
	return out, nil
}

func readInt64s(blob []byte) ([]int64, error) {
	if len(blob)%8 != 0 {
		return nil, fmt.Errorf("value blob of %d bytes is not a whole number of int64", len(blob))
	}
	out := make([]int64, len(blob)/8)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(blob[8*i:]))
	}
	return out, nil
}

func writeInt64s(values []int64) []byte {
	out := make([]byte, 0, 8*len(values))
	for _, v := range values {
		out = binary.LittleEndian.AppendUint64(out, uint64(v))
	}
	return out
}
