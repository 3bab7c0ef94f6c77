#!/usr/bin/python3
"""mkdevice.py -- rewrite one leg of a simulated recording in another device's own format, for the
end-to-end test of mixed studies (tests/e2e/test_formats.sh). Standard library and NumPy only.

Usage: mkdevice.py FORMAT IN.wav OUT [--leg L|R]
FORMAT: edf (3 signals "Acc L X/Y/Z" in g, 1-s records), geneactiv (.bin text pages, gain 25000,
offset 0, i.e. 1/250 g steps), gt3x (zip: info.txt + log.bin ACTIVITY2 records, 256 counts/g).
The start time is the WAV's bext origination date and time (the simulator writes it), as local
time in each format's own way; the recordings' times and values are otherwise those of the WAV.
"""
import io
import struct
import sys
import wave
import zipfile

import numpy as np


def read_wav(path, leg):
    """g (N x 3) of one leg, the rate, and the start 'YYYY-MM-DD hh:mm:ss' from the bext chunk."""
    raw = open(path, "rb").read()
    start = None
    i = 12
    while i + 8 <= len(raw):
        cid, size = raw[i:i + 4], struct.unpack("<I", raw[i + 4:i + 8])[0]
        if cid == b"bext":
            body = raw[i + 8:i + 8 + size]
            start = body[320:330].decode() + " " + body[330:338].decode()
        i += 8 + size + (size & 1)
    w = wave.open(path, "rb")
    ch, fs, n = w.getnchannels(), w.getframerate(), w.getnframes()
    x = np.frombuffer(w.readframes(n), dtype="<i2").reshape(n, ch).astype(float) / 32768 * 8  # full scale 8 g
    c = 3 if leg == "R" else 0
    return x[:, c:c + 3], fs, start or "2024-03-28 21:00:00"


def edf(x, fs, start, out):
    n = x.shape[0] // fs
    labels = ["Acc L X", "Acc L Y", "Acc L Z"]
    d, t = start.split(" ")
    hdr = "0       " + "%-80s" % "X X X X" + "%-80s" % "Startdate X X X X"
    hdr += d[8:10] + "." + d[5:7] + "." + d[2:4] + t[0:2] + "." + t[3:5] + "." + t[6:8]
    hdr += "%-8d" % (256 * 4) + "%-44s" % "" + "%-8d" % n + "%-8s" % "1" + "%-4d" % 3
    hdr += "".join("%-16s" % l for l in labels) + "%-80s" % "" * 3 + "%-8s" % "g" * 3
    hdr += "%-8s" % "-8" * 3 + "%-8s" % "8" * 3 + "%-8s" % "-32768" * 3 + "%-8s" % "32767" * 3
    hdr += "%-80s" % "" * 3 + "%-8d" % fs * 3 + "%-32s" % "" * 3
    dig = np.clip(np.round((x[:n * fs] + 8) / 16 * 65535 - 32768), -32768, 32767).astype("<i2")
    with open(out, "wb") as f:
        f.write(hdr.encode())
        for r in range(n):
            for c in range(3):
                f.write(dig[r * fs:(r + 1) * fs, c].tobytes())


def geneactiv(x, fs, start, out):
    pages = x.shape[0] // 300
    lines = ["Device Identity", "Device Unique Serial Code:000042", "Device Type:GENEActiv", "", "Configuration Info",
             "Measurement Frequency:%d Hz" % fs, "Time Zone:GMT +01:00", "", "Calibration Data", "x gain:25000",
             "x offset:0", "y gain:25000", "y offset:0", "z gain:25000", "z offset:0", "Volts:300", "Lux:800", "",
             "Memory Status", "Number of Pages:%d" % pages, ""]
    raw = np.clip(np.round(x * 250), -2048, 2047).astype(int) & 0xFFF
    d0 = np.datetime64(start.replace(" ", "T"), "ms")
    with open(out, "w", newline="") as f:
        f.write("\r\n".join(lines) + "\r\n")
        for p in range(pages):
            t = str(d0 + np.timedelta64(int(round(p * 300 * 1000 / fs)), "ms")).replace("T", " ")
            t = t[:19] + ":" + t[20:23] if "." in t else t[:19] + ":000"
            f.write("Recorded Data\r\nDevice Unique Serial Code:000042\r\nSequence Number:%d\r\nPage Time:%s\r\n"
                    "Unassigned:\r\nTemperature:25.0\r\nBattery voltage:4.0\r\nDevice Status:Recording\r\n"
                    "Measurement Frequency:%d.0\r\n" % (p, t, fs))
            s = raw[p * 300:(p + 1) * 300]
            f.write("".join("%03X%03X%03X000" % tuple(v) for v in s) + "\r\n")


def gt3x(x, fs, start, out):
    secs = x.shape[0] // fs
    t0 = int((np.datetime64(start.replace(" ", "T"), "s") - np.datetime64("1970-01-01T00:00:00", "s")).astype(int))
    ticks = lambda s: (s + 62135596800) * 10000000
    info = ("Serial Number: TAS1E00000042\r\nDevice Type: wGT3XBT\r\nFirmware: 1.9.2\r\nSample Rate: %d\r\n"
            "Start Date: %d\r\nLast Sample Time: %d\r\nTimeZone: 01:00:00\r\nAcceleration Scale: 256.0\r\n"
            % (fs, ticks(t0), ticks(t0 + secs)))
    c = np.clip(np.round(x * 256), -32768, 32767).astype("<i2")
    log = io.BytesIO()
    for s in range(secs):
        payload = c[s * fs:(s + 1) * fs].tobytes()
        h = bytes([0x1E, 0x1A]) + struct.pack("<IH", t0 + s, len(payload)) + payload
        chk = 0
        for b in h:
            chk ^= b
        log.write(h + bytes([~chk & 0xFF]))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("info.txt", info)
        z.writestr("log.bin", log.getvalue())


def main():
    fmt, src, out = sys.argv[1:4]
    leg = sys.argv[5] if len(sys.argv) > 5 and sys.argv[4] == "--leg" else "L"
    x, fs, start = read_wav(src, leg)
    {"edf": edf, "geneactiv": geneactiv, "gt3x": gt3x}[fmt](x, fs, start, out)


if __name__ == "__main__":
    main()
