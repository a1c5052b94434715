"""tests/bench/stats.py - the statistics of tests/bench/report: ratios of
medians with 95% intervals from a paired bootstrap over the rounds, the
verdicts those intervals allow, and the targets of issue 20 judged on them.
Documentation/benchmarks.md explains them.  Python standard library only.

Every configuration runs once in every round (one boot each, in an order
shuffled per round), so the rounds pair the configurations: a resample draws
whole rounds, and a slow spell of the machine that hit one round hits both
sides of the ratio in that resample.
"""
import random
import statistics

BOOTSTRAP_N = 4000
BOOTSTRAP_SEED = 20261207   # fixed: the same raw/ gives the same report
# Fewer rounds with both numbers: no interval.  A bootstrap of medians over
# few rounds cannot reach past the values it has: its interval held the true
# ratio in 71% of simulated runs of 3 rounds, 87% of 4, 94% of 5 and of 7
# (coverage() below: python3 tests/bench/stats.py).
MIN_PAIRS = 5
PAR = (0.95, 1.05)          # "at par": the whole interval inside this band


def pairs_of(a, b):
    """the rounds where both a and b have a number (b not 0)"""
    return [(x, y) for x, y in zip(a, b) if x is not None and y]


def paired_ci(a, b, n=BOOTSTRAP_N, seed=BOOTSTRAP_SEED):
    """95% interval (percentile bootstrap) of median(a) / median(b), a and b
    per round (None = no number); None with fewer than MIN_PAIRS rounds that
    have both numbers"""
    pairs = pairs_of(a, b)
    if len(pairs) < MIN_PAIRS:
        return None
    rng = random.Random(seed)
    rs = []
    for _ in range(n):
        pick = [pairs[rng.randrange(len(pairs))] for _ in pairs]
        mb = statistics.median(y for _, y in pick)
        if mb:
            rs.append(statistics.median(x for x, _ in pick) / mb)
    rs.sort()
    return rs[int(0.025 * len(rs))], rs[min(len(rs) - 1, int(0.975 * len(rs)))]


def median(values):
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def compare(a, b):
    """ratio of the medians of a and b (each over its own rounds with a
    number), its paired interval and the number of pairs"""
    ma, mb = median(a), median(b)
    ci = paired_ci(a, b)
    return {"ratio": ma / mb if ma is not None and mb else None,
            "ci95": list(ci) if ci else None, "pairs": len(pairs_of(a, b))}


def verdict(ci):
    """what an interval of a throughput ratio (higher = better) says:
    ahead (lower bound > 1), behind (upper bound < 1), at par (inside
    [0.95, 1.05]), otherwise cannot tell (also without an interval)"""
    if not ci:
        return "cannot tell"
    lo, hi = ci
    if lo > 1:
        return "ahead"
    if hi < 1:
        return "behind"
    if PAR[0] <= lo and hi <= PAR[1]:
        return "at par"
    return "cannot tell"


def cost_verdict(ci):
    """the same for a ratio of costs (CPU per I/O, lower = better)"""
    if not ci:
        return "cannot tell"
    lo, hi = ci
    if hi < 1:
        return "less"
    if lo > 1:
        return "more"
    if PAR[0] <= lo and hi <= PAR[1]:
        return "at par"
    return "cannot tell"


def judge_at_least(c, target, bound):
    """a target "ratio >= target with the interval's lower bound >= bound":
    pass when both hold, miss when the whole interval is below the target,
    cannot tell otherwise (also without an interval)"""
    ci = c["ci95"]
    if c["ratio"] is None or not ci:
        return "cannot tell"
    if c["ratio"] >= target and ci[0] >= bound:
        return "pass"
    if ci[1] < target:
        return "miss"
    return "cannot tell"


def judge_at_most_one(c):
    """a cost "ours <= stock's": pass when the whole interval is at or below 1,
    miss when it is above 1, cannot tell otherwise"""
    ci = c["ci95"]
    if c["ratio"] is None or not ci:
        return "cannot tell"
    if ci[1] <= 1:
        return "pass"
    if ci[0] > 1:
        return "miss"
    return "cannot tell"


def overall(judgements):
    """every judgement pass: pass; one miss: miss; otherwise cannot tell"""
    if not judgements:
        return "cannot tell"
    if any(j == "miss" for j in judgements):
        return "miss"
    if all(j == "pass" for j in judgements):
        return "pass"
    return "cannot tell"


# The targets of issue 20 for ours:ours over stock:stock: (target, lower bound)
# of the ratio of throughputs per profile; fsync-barrier against fsync of the
# same configuration; dom0 CPU per I/O against stock's on every profile.
HEADLINE = ("ours:ours", "stock:stock")
TARGETS_VS_STOCK = {"randread": (1.2, 1.1), "randwrite": (1.0, 0.95), "seqread": (1.0, 0.95),
                    "seqwrite": (1.0, 0.95), "fsync": (1.0, 0.95)}
TARGET_BARRIER = (0.8, 0.8)


def targets(values, cpu, configs, profiles, barrier_configs):
    """the targets of issue 20 judged on the intervals.  values[cfg][profile]
    and cpu[cfg][profile]: per round (None = no number).  A list of dicts:
    what, ratio, ci95, pairs, target, bound, judgement"""
    out = []
    ours, stock = HEADLINE
    have = ours in configs and stock in configs
    if not have and not any(c in configs for c in barrier_configs):
        return out
    for p, (t, b) in TARGETS_VS_STOCK.items():
        if p not in profiles or not have:
            continue
        c = compare(values[ours][p], values[stock][p])
        out.append(dict(c, what="%s / %s %s" % (ours, stock, p), target=">= %g" % t,
                        bound=">= %g" % b, judgement=judge_at_least(c, t, b)))
    if "fsync" in profiles and "fsync-barrier" in profiles:
        t, b = TARGET_BARRIER
        for cfg in barrier_configs:
            if cfg not in configs:
                continue
            c = compare(values[cfg]["fsync-barrier"], values[cfg]["fsync"])
            out.append(dict(c, what="%s fsync-barrier / fsync" % cfg, target=">= %g" % t,
                            bound=">= %g" % b, judgement=judge_at_least(c, t, b)))
    if not have:
        return out
    per = []
    for p in profiles:
        if not any(cpu[stock][p]) or not any(cpu[ours][p]):
            continue
        c = compare(cpu[ours][p], cpu[stock][p])
        per.append(dict(c, profile=p, judgement=judge_at_most_one(c)))
    out.append({"what": "dom0 CPU per I/O %s / %s" % (ours, stock),
                "target": "<= 1", "bound": "upper bound <= 1", "per_profile": per,
                "judgement": overall([x["judgement"] for x in per])})
    return out


def fmt_ci(c, digits=2):
    """'1.14 [0.95..1.30]', '1.14 [n<3]' without an interval, '-' without a ratio"""
    if c["ratio"] is None:
        return "-"
    f = "%%.%df" % digits
    if not c["ci95"]:
        return (f + " [n=%d]") % (c["ratio"], c["pairs"])
    return (f + " [" + f + ".." + f + "]") % (c["ratio"], c["ci95"][0], c["ci95"][1])


def coverage(rounds, trials=400, seed=1):
    """how often paired_ci's interval holds the true ratio (1) in a
    simulation: per round a machine factor shared by both sides (log-normal,
    sigma 0.2) and each cell's own noise (log-normal, sigma 0.25)"""
    rng = random.Random(seed)
    hits = 0
    for _ in range(trials):
        a, b = [], []
        for _ in range(rounds):
            f = rng.lognormvariate(0, 0.2)
            a.append(f * rng.lognormvariate(0, 0.25))
            b.append(f * rng.lognormvariate(0, 0.25))
        pairs = list(zip(a, b))
        rs = []
        for _ in range(1000):
            pick = [pairs[rng.randrange(rounds)] for _ in pairs]
            rs.append(statistics.median(x for x, _ in pick) / statistics.median(y for _, y in pick))
        rs.sort()
        hits += rs[int(0.025 * len(rs))] <= 1 <= rs[min(len(rs) - 1, int(0.975 * len(rs)))]
    return hits / trials


if __name__ == "__main__":
    # python3 tests/bench/stats.py: the simulated coverage of the interval
    for n in (3, 4, 5, 7, 9):
        print("%d rounds: the 95%% interval held the true ratio in %.0f%% of %d simulated runs"
              % (n, 100 * coverage(n), 400))
