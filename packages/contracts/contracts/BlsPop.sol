// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/**
 * @title BlsPop
 * @notice Verifies a BLS12-381 proof of possession entirely on chain with the EIP-2537 precompiles (Prague).
 *
 * Why on chain: the EIP-2537 precompiles (0x0b..0x11, active from Prague; the ethereumjs EVM 10.1.3 enables them
 * with the Prague hardfork) make the whole check cost about 170k gas: RFC 9380 expand_message_xmd with the
 * SHA-256 precompile, reduction of the four field elements with MODEXP, two MAP_FP2_TO_G2 calls (which clear
 * the cofactor, and clearing is a homomorphism, so the sum of both maps is hash_to_curve) added with G2ADD, and
 * one two-pair PAIRING check. So no "system validation" in the node is needed: any EVM running Prague
 * rejects a bad proof by itself, and the contract does not need to store the proof.
 *
 * Formats (the chainsafe blst / Ethereum "min-pubkey" scheme used by zgnode crypto):
 * - public key: 48-byte compressed G1 point (ZCash flags). It is decompressed here with MODEXP (p = 3 mod 4, so
 *   sqrt(a) = a^((p+1)/4)); the pairing precompile then performs the subgroup check.
 * - proof: the signature as a 192-byte UNCOMPRESSED G2 point (ZCash serialization: x.c1, x.c0, y.c1, y.c0).
 *   G2 decompression needs an Fp2 square root, which the precompiles do not offer; the caller expands the
 *   usual 96-byte signature off chain (`Signature.fromBytes(sig).toBytes(false)`), which costs it nothing.
 * - message: utf8("zgnode/bls-pop/v1") || publicKey, hashed to G2 with the ciphersuite
 *   BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_, exactly what `blsProofOfPossession` in zgnode crypto signs.
 */
library BlsPop {
    bytes internal constant POP_DOMAIN = "zgnode/bls-pop/v1";
    bytes internal constant DST = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

    // Field modulus p as two words of a 64-byte big-endian number (hi holds the top 16 bytes).
    uint256 private constant P_HI = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
    uint256 private constant P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;
    // (p - 1) / 2: y is the "larger" root (sign flag set) iff y > (p - 1) / 2.
    uint256 private constant HALF_HI = 0x0d0088f51cbff34d258dd3db21a5d66b;
    uint256 private constant HALF_LO = 0xb23ba5c279c2895fb39869507b587b120f55ffff58a9ffffdcff7fffffffd555;
    // (p + 1) / 4: the square-root exponent.
    uint256 private constant SQRT_HI = 0x0680447a8e5ff9a692c6e9ed90d2eb35;
    uint256 private constant SQRT_LO = 0xd91dd2e13ce144afd9cc34a83dac3d8907aaffffac54ffffee7fbfffffffeaab;
    // The G1 generator and its negation (y' = p - y), as EIP-2537 64-byte coordinates.
    uint256 private constant G1_X_HI = 0x17f1d3a73197d7942695638c4fa9ac0f;
    uint256 private constant G1_X_LO = 0xc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb;
    uint256 private constant G1_NEG_Y_HI = 0x114d1d6855d545a8aa7d76c8cf2e21f2;
    uint256 private constant G1_NEG_Y_LO = 0x67816aef1db507c96655b9d5caac42364e6f38ba0ecb751bad54dcd6b939c2ca;

    address private constant MODEXP = address(0x05);
    address private constant BLS12_G2ADD = address(0x0d);
    address private constant BLS12_PAIRING_CHECK = address(0x0f);
    address private constant BLS12_MAP_FP2_TO_G2 = address(0x11);

    /// @return true iff `pop` is a valid proof of possession for the compressed key `pubkey`.
    function verify(bytes memory pubkey, bytes memory pop) internal view returns (bool) {
        if (pubkey.length != 48 || pop.length != 192) return false;
        (bool ok, bytes memory pkPoint) = decompressG1(pubkey);
        if (!ok) return false;
        // Uncompressed ZCash encoding: the compression, infinity and sign flag bits must all be clear.
        if (uint8(pop[0]) & 0xe0 != 0) return false;
        bytes memory sigPoint = _g2Point(pop);
        bytes memory h = hashToG2(abi.encodePacked(POP_DOMAIN, pubkey));
        // e(pk, H(m)) == e(g1, sig)  <=>  e(pk, H(m)) * e(-g1, sig) == 1
        bytes memory input = abi.encodePacked(pkPoint, h, G1_X_HI, G1_X_LO, G1_NEG_Y_HI, G1_NEG_Y_LO, sigPoint);
        bytes memory out;
        (ok, out) = BLS12_PAIRING_CHECK.staticcall(input);
        // The precompile fails (ok == false) on points off the curve or outside the subgroup.
        return ok && out.length == 32 && uint256(bytes32(out)) == 1;
    }

    /// @notice Decompresses a 48-byte ZCash-format G1 point into the 128-byte EIP-2537 encoding.
    function decompressG1(bytes memory pubkey) internal view returns (bool, bytes memory) {
        uint256 w0;
        uint256 w1;
        assembly {
            w0 := mload(add(pubkey, 32))
            w1 := mload(add(pubkey, 48))
        }
        uint256 flags = w0 >> 253;
        // Must be compressed (0b100), must not be the point at infinity (0b010).
        if (flags & 4 == 0 || flags & 2 != 0) return (false, "");
        bool signFlag = flags & 1 == 1;
        uint256 xHi = (w0 >> 128) & ((1 << 125) - 1);
        uint256 xLo = w1;
        if (!_lt(xHi, xLo, P_HI, P_LO)) return (false, "");
        // y^2 = x^3 + 4
        (uint256 cHi, uint256 cLo) = _modexp(xHi, xLo, 0, 3);
        unchecked {
            cLo += 4;
            if (cLo < 4) cHi += 1;
        }
        (uint256 yHi, uint256 yLo) = _modexp(cHi, cLo, SQRT_HI, SQRT_LO);
        (uint256 sHi, uint256 sLo) = _modexp(yHi, yLo, 0, 2);
        (uint256 rHi, uint256 rLo) = _modexp(cHi, cLo, 0, 1);
        if (sHi != rHi || sLo != rLo) return (false, ""); // x^3 + 4 is not a square: x is not on the curve
        if (_lt(HALF_HI, HALF_LO, yHi, yLo) != signFlag) (yHi, yLo) = _sub(P_HI, P_LO, yHi, yLo);
        return (true, abi.encodePacked(xHi, xLo, yHi, yLo));
    }

    /// @notice hash_to_curve (RFC 9380, BLS12381G2_XMD:SHA-256_SSWU_RO_) with the POP ciphersuite tag.
    function hashToG2(bytes memory message) internal view returns (bytes memory) {
        bytes memory uniform = _expandMessageXmd(message);
        bytes memory q0 = _mapToG2(uniform, 0);
        bytes memory q1 = _mapToG2(uniform, 128);
        (bool ok, bytes memory sum) = BLS12_G2ADD.staticcall(abi.encodePacked(q0, q1));
        require(ok && sum.length == 256, "G2ADD failed");
        return sum;
    }

    function _expandMessageXmd(bytes memory message) private pure returns (bytes memory uniform) {
        bytes memory dstPrime = abi.encodePacked(DST, uint8(DST.length));
        // Z_pad (64 zero bytes) || msg || I2OSP(256, 2) || I2OSP(0, 1) || DST_prime
        bytes32 b0 = sha256(abi.encodePacked(bytes32(0), bytes32(0), message, uint16(256), uint8(0), dstPrime));
        bytes32 bi = sha256(abi.encodePacked(b0, uint8(1), dstPrime));
        uniform = new bytes(256);
        for (uint256 i = 1; i <= 8; i++) {
            if (i > 1) bi = sha256(abi.encodePacked(b0 ^ bi, uint8(i), dstPrime));
            assembly {
                mstore(add(uniform, mul(i, 32)), bi)
            }
        }
    }

    /// Reduces two 64-byte chunks at `offset` into an Fp2 element and maps it to G2 (cofactor cleared).
    function _mapToG2(bytes memory uniform, uint256 offset) private view returns (bytes memory) {
        (uint256 c0Hi, uint256 c0Lo) = _reduce(uniform, offset);
        (uint256 c1Hi, uint256 c1Lo) = _reduce(uniform, offset + 64);
        (bool ok, bytes memory point) = BLS12_MAP_FP2_TO_G2.staticcall(abi.encodePacked(c0Hi, c0Lo, c1Hi, c1Lo));
        require(ok && point.length == 256, "MAP_FP2_TO_G2 failed");
        return point;
    }

    function _reduce(bytes memory data, uint256 offset) private view returns (uint256, uint256) {
        uint256 hi;
        uint256 lo;
        assembly {
            hi := mload(add(add(data, 32), offset))
            lo := mload(add(add(data, 64), offset))
        }
        return _modexp(hi, lo, 0, 1);
    }

    /// Reorders a ZCash uncompressed G2 point (x.c1, x.c0, y.c1, y.c0; 48 bytes each) into EIP-2537 order
    /// (x.c0, x.c1, y.c0, y.c1; 64 bytes each).
    function _g2Point(bytes memory sig) private pure returns (bytes memory) {
        (uint256 a, uint256 b) = _read48(sig, 48);
        (uint256 c, uint256 d) = _read48(sig, 0);
        (uint256 e, uint256 f) = _read48(sig, 144);
        (uint256 g, uint256 h) = _read48(sig, 96);
        return abi.encodePacked(a, b, c, d, e, f, g, h);
    }

    function _read48(bytes memory data, uint256 offset) private pure returns (uint256 hi, uint256 lo) {
        assembly {
            hi := shr(128, mload(add(add(data, 32), offset)))
            lo := mload(add(add(data, 48), offset))
        }
    }

    /// base^exponent mod p with 64-byte operands through the MODEXP precompile.
    function _modexp(uint256 bHi, uint256 bLo, uint256 eHi, uint256 eLo) private view returns (uint256, uint256) {
        (bool ok, bytes memory out) = MODEXP.staticcall(
            abi.encodePacked(uint256(64), uint256(64), uint256(64), bHi, bLo, eHi, eLo, P_HI, P_LO)
        );
        require(ok && out.length == 64, "MODEXP failed");
        return abi.decode(out, (uint256, uint256));
    }

    function _lt(uint256 aHi, uint256 aLo, uint256 bHi, uint256 bLo) private pure returns (bool) {
        return aHi < bHi || (aHi == bHi && aLo < bLo);
    }

    function _sub(uint256 aHi, uint256 aLo, uint256 bHi, uint256 bLo) private pure returns (uint256, uint256) {
        unchecked {
            uint256 borrow = aLo < bLo ? 1 : 0;
            return (aHi - bHi - borrow, aLo - bLo);
        }
    }
}
