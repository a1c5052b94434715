"""tests/bench/records.py - the XB-BENCH result lines of tests/bench/case.sh
for tests/bench/report: parsing them, the headline number of a profile, and
the per-I/O costs and counters derived from a line.
Documentation/benchmarks.md explains the numbers.  Python standard library only.
"""
import re
import statistics

# profile -> (unit, what is measured, block size in KiB)
PROFILES = {
    "seqwrite": ("MB/s", "1 MiB sequential write, QD 8", 1024),
    "seqread": ("MB/s", "1 MiB sequential read, QD 8", 1024),
    "randread": ("IOPS", "4 KiB random read, QD 32, 2 jobs", 4),
    "randwrite": ("IOPS", "4 KiB random write, QD 32", 4),
    "fsync": ("syncs/s", "4 KiB write + fdatasync, flush mode", 4),
    "fsync-barrier": ("syncs/s", "4 KiB write + fdatasync, barrier-only mode", 4),
    # tests/bench/scaling: random reads at queue depths 1 .. 64
    "randread-qd1": ("IOPS", "4 KiB random read, QD 1, 1 job", 4),
    "randread-qd4": ("IOPS", "4 KiB random read, QD 4 (2 jobs x 2)", 4),
    "randread-qd16": ("IOPS", "4 KiB random read, QD 16 (2 jobs x 8)", 4),
    "randread-qd64": ("IOPS", "4 KiB random read, QD 64 (2 jobs x 32)", 4),
}


def parse_line(line):
    """'XB-BENCH k=v ... why=free text' -> dict"""
    body = line.split(" ", 1)[1] if " " in line else ""
    rec = {}
    m = re.search(r"(^| )why=", body)
    if m:
        rec["why"] = body[m.end():].strip()
        body = body[:m.start()]
    for tok in body.split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            rec[k] = v
    return rec


def num(rec, key):
    try:
        return float(rec[key])
    except (KeyError, ValueError):
        return None


def metric(profile, rec):
    """the headline number of one measured profile, or None"""
    if "why" in rec or "na" in rec:
        return None
    if profile == "seqwrite":
        v = num(rec, "w_bw")
        return None if v is None else v * 1024 / 1e6
    if profile == "seqread":
        v = num(rec, "r_bw")
        return None if v is None else v * 1024 / 1e6
    if profile.startswith("randread"):
        return num(rec, "r_iops")
    return num(rec, "w_iops")      # randwrite, fsync, fsync-barrier


def derived(profile, rec):
    """per-I/O costs and counters of one measured profile"""
    bs = PROFILES[profile][2]
    kb = (num(rec, "r_kb") or 0) + (num(rec, "w_kb") or 0)
    ios = kb / bs
    if ios <= 0:
        return {}
    d = {"ios": ios}

    def per_io(key, scale):
        v = num(rec, key)
        if v is not None:
            d[key + "_per_io"] = v * scale / ios

    # Xen's accounting (ms) and /proc/stat ticks (10 ms) -> microseconds per I/O
    per_io("xen_dom0_ms", 1000.0)
    if rec.get("domu"):
        per_io("xen_domu_ms", 1000.0)
    per_io("d_busy", 10000.0)
    per_io("u_busy", 10000.0)
    # event-channel notifications per I/O: to the backend (dom0's blkif
    # interrupts) and to the frontend (the domU's)
    per_io("d_irq", 1.0)
    per_io("u_irq", 1.0)
    # the window dom0 measured over, against fio's own runtime (seconds)
    if num(rec, "window_ms") is not None:
        d["window_s"] = num(rec, "window_ms") / 1000.0
    fio_ms = max(num(rec, "r_ms") or 0, num(rec, "w_ms") or 0)
    if fio_ms:
        d["fio_runtime_s"] = fio_ms / 1000.0
    clat = num(rec, "r_clat") if profile == "seqread" or profile.startswith("randread") else num(rec, "w_clat")
    if clat is not None:
        d["clat_us"] = clat

    def ratio(name, a_keys, b_keys, scale=1.0):
        a = sum(num(rec, k) or 0 for k in a_keys)
        b = sum(num(rec, k) or 0 for k in b_keys)
        if b > 0 and all(k in rec for k in a_keys + b_keys):
            d[name] = a * scale / b

    # block requests in the domU per fio I/O, blkif requests per block request
    if all(k in rec for k in ("u_rd", "u_wr")):
        d["domu_reqs_per_io"] = ((num(rec, "u_rd") or 0) + (num(rec, "u_wr") or 0)) / ios
    # a counter that went backwards was read after its device went away
    if any((num(rec, k) or 0) < 0 for k in ("be_rd", "be_wr", "be_f")):
        rec = {k: v for k, v in rec.items() if not k.startswith("be_")}
    if profile.startswith("fsync"):
        # an fdatasync shows in the domU's counters as an empty write and a
        # flush: count blkif requests per sync instead (1 write + 1 flush)
        if all(k in rec for k in ("be_wr", "be_f")):
            d["blkif_per_io"] = ((num(rec, "be_wr") or 0) + (num(rec, "be_f") or 0)) / ios
    else:
        ratio("blkif_per_domu_req", ["be_rd", "be_wr"], ["u_rd", "u_wr"])
    # mean time per request: domU block layer, and null_blk in dom0 (microseconds)
    ratio("domu_req_us", ["u_rdms", "u_wrms"], ["u_rd", "u_wr"], 1000.0)
    ratio("dev_req_us", ["n_rdms", "n_wrms"], ["n_rd", "n_wr"], 1000.0)
    ratio("domu_flush_us", ["u_flms"], ["u_fl"], 1000.0)
    ratio("dev_flush_us", ["n_flms"], ["n_fl"], 1000.0)
    if "n_fl" in rec:
        d["dev_flushes_per_io"] = (num(rec, "n_fl") or 0) / ios
    return d


def summary(values):
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    med = statistics.median(vals)
    return {
        "median": med, "min": min(vals), "max": max(vals), "n": len(vals),
        "spread_pct": (max(vals) - min(vals)) * 100.0 / med if med else None,
    }


def fmt(v, unit=None):
    if v is None:
        return "-"
    if unit in ("IOPS", "syncs/s") or abs(v) >= 1000:
        return "%.0f" % v
    if abs(v) >= 100:
        return "%.0f" % v
    if abs(v) >= 10:
        return "%.1f" % v
    return "%.2f" % v
