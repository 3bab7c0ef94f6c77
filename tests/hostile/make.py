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
]
with open(os.path.join(HERE, "manifest.csv"), "wb") as f:
    f.write(b"\xef\xbb\xbf" + "\r\n".join(rows).encode() + b"\r\n")
with open(os.path.join(HERE, "manifest_duplicate_id.csv"), "w") as f:
    f.write("subject,condition,path,recording,full_scale_g\nS01,control,good.wav,a,8\nS02,control,good.wav,a,8\n")
with open(os.path.join(HERE, "manifest_open_quote.csv"), "w") as f:
    f.write('subject,condition,path,full_scale_g\nS01,control,"good.wav,8\nS02,control,good.wav,8\n')
with open(os.path.join(HERE, "manifest_short_row.csv"), "w") as f:
    f.write("subject,condition,path,full_scale_g\nS01,control\n")
