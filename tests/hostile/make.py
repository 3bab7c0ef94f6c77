#!/usr/bin/python3
"""make.py -- writes the hostile-input suite in this folder (committed; rerun to regenerate).

Each recording is a small WAV written byte by byte here (standard library only), so
what is wrong with it is visible in this file. expected.txt says what actiplm must
answer for each; tests/e2e/test_hostile.sh checks it. Deterministic: the same bytes
on every run.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def lcg(seed):
    """Deterministic uniform noise in [-1, 1) (numerical recipes LCG)."""
    x = seed
    while True:
        x = (1664525 * x + 1013904223) % 2**32
        yield x / 2**31 - 1.0


def wav(name, fs, ch, frames, kind="int16", signal="worn", claimed_bytes=None, seed=1):
    """A PCM (int16, full scale 8 g) or IEEE float WAV; signal: worn (gravity on z plus 3 mg
    noise), zero, flat (exactly 0, 0, 1 g), nan (every sample NaN), gaps (worn with a NaN run
    and an Inf run)."""
    noise = lcg(seed)
    width = 2 if kind == "int16" else 4
    data = bytearray()
    for i in range(frames):
        for c in range(ch):
            g = 1.0 if c % 3 == 2 else 0.0
            if signal == "worn":
                v = g + 0.003 * next(noise)
            elif signal == "zero":
                v = 0.0
            elif signal == "flat":
                v = g
            elif signal == "nan":
                v = float("nan")
            elif signal == "gaps":
                v = g + 0.003 * next(noise)
                if frames // 3 <= i < frames // 3 + fs:
                    v = float("nan")
                if frames // 2 <= i < frames // 2 + fs:
                    v = float("inf")
            if kind == "int16":
                data += struct.pack("<h", max(-32768, min(32767, round(v / 8 * 32768))))
            else:
                data += struct.pack("<f", v)
    size = claimed_bytes if claimed_bytes is not None else len(data)
    fmt = struct.pack("<HHIIHH", 1 if kind == "int16" else 3, ch, fs, fs * ch * width, ch * width, 8 * width)
    riff = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", size) + data
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", min(4 + len(riff) - len(data) + size, 2**32 - 1)) + riff)


os.makedirs(os.path.join(HERE, "rec dir"), exist_ok=True)
open(os.path.join(HERE, "empty.wav"), "wb").close()
with open(os.path.join(HERE, "text.wav"), "w") as f:
    f.write("subject,condition,path\nthis is a CSV file, not audio\n")
wav("good.wav", 10, 3, 4000)                                   # 400 s, processed
wav("rec dir/nuit été.wav", 10, 6, 4000, seed=2)               # same, a path with a space and non-ASCII
wav("claims2gb.wav", 10, 3, 4000, claimed_bytes=2_000_000_000)  # header: 2 GB of data; file: 24 kB
wav("1hz.wav", 1, 3, 400)
wav("1mhz.wav", 1_000_000, 3, 1000)
wav("2ch.wav", 10, 2, 4000)
wav("7ch.wav", 10, 7, 4000)
wav("allzero.wav", 10, 3, 4000, signal="zero")
wav("flat.wav", 10, 3, 4000, signal="flat")
wav("short.wav", 10, 3, 200)                                    # 20 s
wav("allnan.wav", 10, 3, 4000, kind="float", signal="nan")
wav("gaps.wav", 10, 3, 4000, kind="float", signal="gaps")       # a 1-s NaN run and a 1-s Inf run



def cwa(name, blocks, rate_code=0x4A, bad_checksum=False, tail=b"", seq_jump_at=None):
    """An AX3 .cwa: the 1,024-byte header, `blocks` packed data blocks of 120 samples (1 g on z)
    with correct checksums unless bad_checksum, then `tail` bytes."""
    h = bytearray(b"\xff" * 1024)
    h[0:2] = b"MD"
    h[2:4] = struct.pack("<H", 1020)
    h[4] = 0x17
    h[36] = rate_code
    data = bytes(h)
    for b in range(blocks):
        k = bytearray(512)
        k[0:4] = b"AX" + struct.pack("<H", 508)
        sec = b * 120 // 100
        ts = (24 << 26) | (3 << 22) | (28 << 17) | (21 << 12) | (sec // 60 % 60 << 6) | (sec % 60)
        k[6:14] = struct.pack("<II", 1, b + (2**31 if seq_jump_at is not None and b >= seq_jump_at else 0))
        k[14:18] = struct.pack("<I", ts)
        k[24] = rate_code
        k[25] = 0x30
        k[28:30] = struct.pack("<H", 120)
        noise = lcg(b + 11)
        for i in range(120):  # 1 g on z (256 at 1/256 g, exponent 1: 128 << 1) and a few mg of noise on x
            x = int(next(noise) * 2) & 0x3FF
            k[30 + 4 * i:34 + 4 * i] = struct.pack("<I", 1 << 30 | (128 & 0x3FF) << 20 | x)
        s = sum(struct.unpack("<255H", bytes(k[:510]))) & 0xFFFF
        k[510:512] = struct.pack("<H", (-s if not bad_checksum else 1 - s) & 0xFFFF)
        data += bytes(k)
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data + tail)


def zipfile_with(name, files):
    """A zip (deflated) holding files: {name: bytes}."""
    import zipfile
    with zipfile.ZipFile(os.path.join(HERE, name), "w", zipfile.ZIP_DEFLATED) as z:
        for n, b in files.items():
            z.writestr(n, b)


GT3X_INFO = ("Serial Number: TAS0000000001\r\nDevice Type: Link\r\nSample Rate: 30\r\n"
             "Start Date: 637517662200000000\r\nLast Sample Time: 637517666200000000\r\n"
             "TimeZone: -05:00:00\r\nAcceleration Scale: 256.0\r\n")


def geneactiv(name, pages, header_pages, hexline=None, seq_step=1):
    """A GENEActiv .bin: the header (gain 25000, offset 0 per axis, 50 Hz) and `pages` pages of
    300 samples (1 g on z), the header claiming header_pages; hexline replaces every data line."""
    lines = ["Device Identity", "Device Unique Serial Code:000001", "Device Type:GENEActiv", "",
             "Configuration Info", "Measurement Frequency:50 Hz", "Time Zone:GMT +01:00", "", "Calibration Data",
             "x gain:25000", "x offset:0", "y gain:25000", "y offset:0", "z gain:25000", "z offset:0", "Volts:300",
             "Lux:800", "", "Memory Status", "Number of Pages:%d" % header_pages, ""]
    out = "\r\n".join(lines) + "\r\n"
    for p in range(pages):
        out += ("Recorded Data\r\nDevice Unique Serial Code:000001\r\nSequence Number:%d\r\n"
                "Page Time:2024-03-28 21:00:%02d:000\r\nUnassigned:\r\nTemperature:25.0\r\n"
                "Battery voltage:4.0\r\nDevice Status:Recording\r\nMeasurement Frequency:50.0\r\n") % (p * seq_step, 6 * p)
        noise = lcg(p + 3)
        out += (hexline if hexline is not None else
                "".join("%03X%03X%03X000" % (int(next(noise) * 9) & 0xFFF, int(next(noise) * 9) & 0xFFF, 250)
                        for _ in range(300))) + "\r\n"
    with open(os.path.join(HERE, name), "w", newline="") as f:
        f.write(out)


cwa("cwa_cut.cwa", 0, tail=b"AX" + b"\0" * 298)                   # a header and 300 bytes: no whole block
cwa("cwa_badsum.cwa", 4, bad_checksum=True)                        # every block fails its checksum
cwa("cwa_rate0.cwa", 4, rate_code=0x00)                            # the old format (rate code 0)
cwa("cwa_seqjump.cwa", 400, seq_jump_at=300)                       # block 300's sequence id jumps by 2^31
zipfile_with("gt3x_noinfo.gt3x", {"log.bin": b"\x1e" * 10})        # a zip without info.txt


def gt3x_records(seconds, t0=1616169420):
    """log.bin records: `seconds` ACTIVITY2 records of 30 samples (1 g on z, LCG noise), checksummed."""
    noise, out = lcg(5), bytearray()
    for s in range(seconds):
        payload = b"".join(struct.pack("<hhh", int(next(noise) * 3), int(next(noise) * 3), 256 + int(next(noise) * 3))
                           for _ in range(30))
        h = bytes([0x1E, 0x1A]) + struct.pack("<IH", t0 + s, len(payload)) + payload
        x = 0
        for b in h:
            x ^= b
        out += h + bytes([~x & 0xFF])
    return bytes(out)


zipfile_with("gt3x_bomb.gt3x", {"info.txt": GT3X_INFO.encode(),   # log.bin: 50 MB of zeros, then 400 s
                                "log.bin": bytes(50_000_000) + gt3x_records(400)})
geneactiv("ga_pages.bin", 1, 1_000_000_000)                        # the header claims 10^9 pages
zipfile_with("gt3x_years.gt3x", {"info.txt": GT3X_INFO.replace("Last Sample Time: 637517666200000000",
                                                               "Last Sample Time: 647517666200000000").encode(),
                                 "log.bin": gt3x_records(10)})       # info.txt: 11 years of data
geneactiv("ga_text.bin", 2, 2, hexline="this is text, not hex digits")
geneactiv("ga_seqjump.bin", 2, 2, seq_step=999_999_999)           # the second page's sequence number jumps

# The study manifest: UTF-8 BOM, CRLF line ends, a blank line, quoted fields (one with a comma),
# a path with a space and non-ASCII letters.
rows = [
    "subject,condition,path,recording,full_scale_g",
    '"S01",control,good.wav,good,8',
    '"S02, the second",control,"rec dir/nuit été.wav",nuit été,8',
    "",
    "S03,control,claims2gb.wav,claims2gb,8",
    "S04,control,empty.wav,empty,8",
    "S05,control,text.wav,text,8",
    "S06,control,1hz.wav,1hz,8",
    "S07,control,1mhz.wav,1mhz,8",
    "S08,control,2ch.wav,2ch,8",
    "S09,control,7ch.wav,7ch,8",
    "S10,control,allzero.wav,allzero,8",
    "S11,control,flat.wav,flat,8",
    "S12,control,short.wav,short,8",
    "S13,control,allnan.wav,allnan,",
    "S14,control,gaps.wav,gaps,",
    "S15,control,missing.wav,missing,8",
    "S16,control,cwa_cut.cwa,cwa_cut,",
    "S17,control,cwa_badsum.cwa,cwa_badsum,",
    "S18,control,cwa_rate0.cwa,cwa_rate0,",
    "S19,control,gt3x_noinfo.gt3x,gt3x_noinfo,",
    "S20,control,gt3x_bomb.gt3x,gt3x_bomb,",
    "S21,control,ga_pages.bin,ga_pages,",
    "S22,control,ga_text.bin,ga_text,",
    "S23,control,gt3x_years.gt3x,gt3x_years,",
    "S24,control,cwa_seqjump.cwa,cwa_seqjump,",
    "S25,control,ga_seqjump.bin,ga_seqjump,",
]
with open(os.path.join(HERE, "manifest.csv"), "wb") as f:
    f.write(b"\xef\xbb\xbf" + "\r\n".join(rows).encode() + b"\r\n")
with open(os.path.join(HERE, "manifest_duplicate_id.csv"), "w") as f:
    f.write("subject,condition,path,recording,full_scale_g\nS01,control,good.wav,a,8\nS02,control,good.wav,a,8\n")
with open(os.path.join(HERE, "manifest_open_quote.csv"), "w") as f:
    f.write('subject,condition,path,full_scale_g\nS01,control,"good.wav,8\nS02,control,good.wav,8\n')
with open(os.path.join(HERE, "manifest_short_row.csv"), "w") as f:
    f.write("subject,condition,path,full_scale_g\nS01,control\n")
