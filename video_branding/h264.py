"""Just enough of H.264's bitstream for splicing: NAL units, parameter-set ids and `avcC`.

An MP4 or Matroska H.264 track stores each frame as NAL units behind a big-endian length, and
its parameter sets (SPS, PPS) in the `avcC` record (ISO/IEC 14496-15), which may list several of
each, told apart by their ids. Re-encoded frames that use parameter sets with ids of their own
can therefore sit in the same track as the copied ones.
"""

from __future__ import annotations

from dataclasses import dataclass

NAL_IDR = 5
NAL_SPS = 7
NAL_PPS = 8
MAX_PARAMETER_SET_ID = 31  # x264 numbers its PPS like its SPS: both must be free


class BitstreamError(ValueError):
    """The bytes are not the H.264 structure they should be."""


def nal_type(nal: bytes) -> int:
    return nal[0] & 0x1F


def split_length_prefixed(data: bytes, length_size: int) -> list[bytes]:
    """The NAL units of one frame stored as `length_size`-byte lengths, each then its unit."""
    units, at = [], 0
    while at < len(data):
        if at + length_size > len(data):
            raise BitstreamError("a NAL length runs past the end of the frame")
        size = int.from_bytes(data[at : at + length_size], "big")
        at += length_size
        if size == 0 or at + size > len(data):
            raise BitstreamError("a NAL unit runs past the end of the frame")
        units.append(data[at : at + size])
        at += size
    return units


def join_length_prefixed(units: list[bytes], length_size: int) -> bytes:
    limit = 1 << (8 * length_size)
    if any(len(unit) >= limit for unit in units):
        raise BitstreamError(f"a NAL unit is too long for {length_size}-byte lengths")
    return b"".join(len(unit).to_bytes(length_size, "big") + unit for unit in units)


def split_annexb(data: bytes) -> list[bytes]:
    """The NAL units of an Annex B byte stream (each behind a 00 00 01 start code)."""
    units, start = [], None
    at = data.find(b"\x00\x00\x01")
    while at >= 0:
        if start is not None:
            units.append(data[start:at].rstrip(b"\x00"))
        start = at + 3
        at = data.find(b"\x00\x00\x01", start)
    if start is not None:
        units.append(data[start:])
    return [unit for unit in units if unit]


def _rbsp(nal: bytes) -> bytes:
    """The unit's payload without its header byte and emulation-prevention bytes."""
    return nal[1:].replace(b"\x00\x00\x03", b"\x00\x00")


class _Bits:
    def __init__(self, data: bytes):
        self._data = data
        self._at = 0

    def bit(self) -> int:
        byte, offset = divmod(self._at, 8)
        if byte >= len(self._data):
            raise BitstreamError("a parameter set ends too early")
        self._at += 1
        return (self._data[byte] >> (7 - offset)) & 1

    def bits(self, count: int) -> int:
        value = 0
        for _ in range(count):
            value = value << 1 | self.bit()
        return value

    def ue(self) -> int:
        zeros = 0
        while self.bit() == 0:
            zeros += 1
            if zeros > 31:
                raise BitstreamError("an Exp-Golomb code is too long")
        return (1 << zeros) - 1 + self.bits(zeros)


def sps_id(sps: bytes) -> int:
    bits = _Bits(_rbsp(sps))
    bits.bits(24)  # profile_idc, constraint flags, level_idc
    return bits.ue()


def pps_ids(pps: bytes) -> tuple[int, int]:
    """(its own id, the id of the SPS it refers to)."""
    bits = _Bits(_rbsp(pps))
    return bits.ue(), bits.ue()


@dataclass(frozen=True)
class Avcc:
    """An AVCDecoderConfigurationRecord."""

    profile: int
    compatibility: int
    level: int
    length_size: int
    sps: tuple[bytes, ...]
    pps: tuple[bytes, ...]
    extension: bytes  # the High profiles' chroma and bit-depth fields, kept as they are

    @classmethod
    def parse(cls, data: bytes) -> Avcc:
        if len(data) < 7 or data[0] != 1:
            raise BitstreamError("not an avcC record")
        at = 6
        sps, at = _parameter_sets(data, at, data[5] & 0x1F)
        if at >= len(data):
            raise BitstreamError("the avcC record has no PPS count")
        pps, at = _parameter_sets(data, at + 1, data[at])
        return cls(data[1], data[2], data[3], (data[4] & 3) + 1, sps, pps, data[at:])

    def to_bytes(self) -> bytes:
        if len(self.sps) > MAX_PARAMETER_SET_ID or len(self.pps) > 255:
            raise BitstreamError("too many parameter sets for one avcC record")
        head = bytes(
            (1, self.profile, self.compatibility, self.level, 0xFC | (self.length_size - 1))
        )
        listed = bytes((0xE0 | len(self.sps),)) + _listed(self.sps)
        listed += bytes((len(self.pps),)) + _listed(self.pps)
        return head + listed + self.extension

    @property
    def used_ids(self) -> set[int]:
        """Every SPS and PPS id the record's parameter sets take."""
        return {sps_id(sps) for sps in self.sps} | {pps_ids(pps)[0] for pps in self.pps}

    def with_parameter_sets(self, other: Avcc) -> Avcc:
        """This record listing `other`'s SPS and PPS after its own."""
        return Avcc(
            self.profile,
            self.compatibility,
            self.level,
            self.length_size,
            self.sps + tuple(s for s in other.sps if s not in self.sps),
            self.pps + tuple(p for p in other.pps if p not in self.pps),
            self.extension,
        )


def _parameter_sets(data: bytes, at: int, count: int) -> tuple[tuple[bytes, ...], int]:
    units = []
    for _ in range(count):
        if at + 2 > len(data):
            raise BitstreamError("the avcC record ends inside its parameter sets")
        size = int.from_bytes(data[at : at + 2], "big")
        units.append(data[at + 2 : at + 2 + size])
        at += 2 + size
    if at > len(data):
        raise BitstreamError("the avcC record ends inside its parameter sets")
    return tuple(units), at


def _listed(units: tuple[bytes, ...]) -> bytes:
    return b"".join(len(unit).to_bytes(2, "big") + unit for unit in units)


def is_idr(frame: bytes, length_size: int) -> bool:
    """Whether a stored frame is an IDR picture: nothing after it refers to what came before."""
    return any(nal_type(unit) == NAL_IDR for unit in split_length_prefixed(frame, length_size))


def free_parameter_set_id(avcc: Avcc) -> int | None:
    """The smallest id no SPS or PPS of `avcc` uses; None when all 32 are taken."""
    used = avcc.used_ids
    return next((i for i in range(MAX_PARAMETER_SET_ID + 1) if i not in used), None)
