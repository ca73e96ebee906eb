"""Demo recordings for the streaming apps, with their ground truth and the twin's verdict on them.

Each maker writes the recording into the output directory and returns the metrics entry's
``demo`` part: what happens when (the truth), what the Python twin of the firmware pipeline
detects, and how the two compare. Numpy (and espeak-ng for the speech) only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from models.tinyml import twins


def match_events(truth: list[dict[str, Any]], dets: list[twins.Detection], key: str = "word",
                 late_ms: int = 1250) -> dict[str, Any]:
    """Pair detections with the true events: a detection of the right label inside
    [start, end + late_ms] of an event that is to be detected. Unpaired ones are false."""
    used: set[int] = set()
    hits, missed = 0, []
    for ev in truth:
        if not ev.get("detect", True):
            continue
        for k, d in enumerate(dets):
            if k not in used and d.label == ev[key] and ev["start_ms"] <= d.at_ms <= ev["end_ms"] + late_ms:
                used.add(k)
                hits += 1
                break
        else:
            missed.append(ev[key])
    false = [f"{d.label}@{d.at_ms}" for k, d in enumerate(dets) if k not in used]
    return {"events": sum(1 for e in truth if e.get("detect", True)), "detected": hits, "missed": missed,
            "false": false}


def kws_stream(rng: np.random.Generator, words: list[str], voices: list[Any], levels_db: list[float],
               gap: float = 1.6) -> tuple[np.ndarray, list[dict[str, Any]], float]:
    """PCM16 words ``gap`` s apart from 1 s on, over pink noise at -55 dBFS, with the truth."""
    from models.tinyml import data_kws as dk

    utter = [dk.trim(u) for u in dk.speak_all(list(zip(words, voices)))]
    total = int(np.ceil((1.0 + gap * len(words) + 0.6) * 4)) / 4  # whole DMA halves (250 ms)
    x = 10 ** (-55 / 20) * dk.noise(rng, "pink", int(total * dk.RATE))
    truth = []
    for i, (w, u, lv) in enumerate(zip(words, utter, levels_db)):
        at = int((1.0 + gap * i) * dk.RATE)
        x[at:at + len(u)] += u * (10 ** (lv / 20) / np.abs(u).max())
        truth.append({"word": w, "start_ms": at * 1000 // dk.RATE, "end_ms": (at + len(u)) * 1000 // dk.RATE,
                      "detect": w in dk.KEYWORDS})
    return dk.to_pcm16(x), truth, total


def kws_detector_check(ctx: Any, tfl: bytes, val_variants: tuple[str, ...]) -> dict[str, Any]:
    """The detector's operating point on a stream of 96 words (each keyword 8 times, 32 other
    words) by validation voices at -20..-6 dBFS: what DETECT_THRESHOLD was chosen on."""
    from models.tinyml import data_kws as dk

    rng = ctx.rng(30)
    words: list[str] = []
    for _ in range(8):
        block = list(dk.KEYWORDS) + [str(w) for w in rng.choice(dk.UNKNOWN_WORDS, 4, replace=False)]
        rng.shuffle(block)
        words += block
    voices = [dk.random_voice(rng, val_variants) for _ in words]
    pcm, truth, total = kws_stream(rng, words, voices, list(rng.uniform(-20, -6, len(words))))
    res = match_events(truth, twins.kws_detections(twins.kws_inferences(pcm, tfl)))
    ctx.say(f"detector on {len(words)} words by validation voices ({total:g} s): {res['detected']} of "
            f"{res['events']} keywords detected, {len(res['false'])} false detections")
    return {"words": len(words), "seconds": total, **res}


def kws_demo(ctx: Any, tfl: bytes, test_variants: tuple[str, ...]) -> dict[str, Any]:
    """kws_demo.wav: the ten keywords and two other words, 1.6 s apart, by one held-out voice."""
    from models.tinyml import data_kws as dk

    rng = ctx.rng(20)
    words = [dk.KEYWORDS[i] for i in rng.permutation(len(dk.KEYWORDS))]
    for w in rng.choice(dk.UNKNOWN_WORDS, size=2, replace=False):
        words.insert(int(rng.integers(1, len(words))), str(w))
    voice = dk.Voice("en-us", test_variants[int(rng.integers(len(test_variants)))], 150, 50, 120)
    pcm, truth, total = kws_stream(rng, words, [voice] * len(words), [-8.0] * len(words))
    path = ctx.out / "kws_demo.wav"
    twins.write_wav(path, pcm, dk.RATE)
    infs = twins.kws_inferences(pcm, tfl)
    dets = twins.kws_detections(infs)
    res = match_events(truth, dets)
    ctx.say(f"demo ({voice.name}, {total:g} s): {len(infs)} inferences, detections "
            f"{[(d.label, d.at_ms) for d in dets]}; {res}")
    return {"file": path.name, "voice": voice.name, "seconds": total, "truth": truth,
            "twin": [d.__dict__ for d in dets], **res}


def gesture_demo(ctx: Any, tfl: bytes, persons: list[Any]) -> dict[str, Any]:
    """gestures_demo.csv: eight gestures and three other hand movements ("fidget", not to be
    detected) 2.5 s apart by one held-out person, IMU at 50 Hz."""
    from models.tinyml import data_imu as di

    rng = ctx.rng(20)
    order = [di.GESTURES[i] for i in np.r_[rng.permutation(4), rng.permutation(4)]]
    for _ in range(3):
        order.insert(int(rng.integers(1, len(order))), "fidget")
    person = persons[int(rng.integers(len(persons)))]
    starts = [1.5 + 2.5 * i for i in range(len(order))]
    seconds = starts[-1] + 2.5
    rec, durs = di.render(rng, person, list(zip(order, starts)), seconds)
    path = ctx.out / "gestures_demo.csv"
    t = np.arange(len(rec)) / di.ODR
    with open(path, "w") as fh:
        fh.write("t,ax,ay,az,gx,gy,gz\n")
        for k in range(len(rec)):
            fh.write(f"{t[k]:.2f}," + ",".join(repr(float(v)) for v in rec[k]) + "\n")
    truth = [{"gesture": g, "start_ms": int(s * 1000), "end_ms": int((s + d) * 1000), "detect": g != "fidget"}
             for g, s, d in zip(order, starts, durs)]
    infs, dets = twins.gesture_pipeline(path, tfl)
    res = match_events(truth, dets, key="gesture", late_ms=1000)
    ctx.say(f"demo ({seconds:g} s): {len(infs)} inferences, detections {[(d.label, d.at_ms) for d in dets]}; {res}")
    return {"file": path.name, "seconds": seconds, "truth": truth, "twin": [d.__dict__ for d in dets], **res}


def machine_demo(ctx: Any, tfl: bytes, machines: list[Any], threshold: int) -> dict[str, Any]:
    """machine_demo.npy: ADC codes at 4 kHz of one held-out machine going through each fault."""
    from models.tinyml import apps, common
    from models.tinyml import data_machine as dm

    rng = ctx.rng(20)
    m = machines[int(rng.integers(len(machines)))]
    plan = [("healthy", 6.0), ("imbalance", 4.0), ("healthy", 4.0), ("misalignment", 4.0), ("healthy", 4.0),
            ("bearing", 4.0), ("healthy", 2.0)]
    codes = np.concatenate([dm.to_codes(m, dm.vibration(rng, m, c, s, severity=0.9)) for c, s in plan])
    path = ctx.out / "machine_demo.npy"
    np.save(path, codes)
    truth, t = [], 0.0
    for c, s in plan:
        truth.append({"condition": c, "start_ms": int(t * 1000), "end_ms": int((t + s) * 1000)})
        t += s
    zo, mult = apps.machine_rescale(tfl)
    x = twins.machine_inputs(twins.machine_features(codes))
    scores = twins.machine_scores(x, common.Tflm(tfl)(x), zo, mult)
    reports = twins.machine_reports(scores, threshold)
    ctx.say(f"demo ({t:g} s, {len(scores)} windows): reports {[(r.kind, r.at_ms) for r in reports]}")
    return {"file": path.name, "rate_hz": dm.RATE, "seconds": t, "truth": truth,
            "twin": [r.__dict__ for r in reports]}


def person_demo(ctx: Any, tfl: bytes) -> dict[str, Any]:
    """person_demo.npy: 32 frames (8 s at 4 fps) of one room; a person walks in, stands, walks
    out; later someone stands close to the camera."""
    from models.tinyml import data_vision as dv
    from models.tinyml.apps import CAMERA

    rng = ctx.rng(20)
    room = dv.background(rng)
    for _ in range(3):
        dv.add_object(rng, room)
    walker, near = int(rng.integers(1 << 30)), int(rng.integers(1 << 30))
    place: list[tuple[int, float, float, float] | None] = [None] * 6
    place += [(walker, x, 80.0, 60.0) for x in np.linspace(8, 60, 8)]  # walks in from the left
    place += [(walker, 60.0, 80.0, 60.0)] * 3 + [(walker, x, 80.0, 60.0) for x in np.linspace(66, 90, 4)]
    place += [None] * 6 + [(near, 45.0, 110.0, 88.0)] * 5
    frames, truth = [], []
    for k, p in enumerate(place):
        img = room.copy()
        if p is not None:
            dv.add_person(np.random.default_rng(p[0]), img, p[1:])
        frames.append(dv.finish(np.random.default_rng(ctx.seed * 1000 + 100 + k), img))
        truth.append(int(p is not None))
    path = ctx.out / "person_demo.npy"
    np.save(path, np.stack(frames))
    infs = twins.person_inferences(np.stack(frames), tfl)
    events = twins.person_events(infs)
    decided = [int(i.scores[1] + 128 >= CAMERA["PERSON_THRESHOLD"]) for i in infs]
    agree = sum(int(a == b) for a, b in zip(decided, truth))
    ctx.say(f"demo ({len(frames)} frames): {agree}/{len(frames)} frames right; events "
            f"{[(e.label, e.at_ms) for e in events]}")
    return {"file": path.name, "fps": CAMERA["FPS"], "frames": len(frames), "truth": truth,
            "frames_right": agree, "twin": [e.__dict__ for e in events]}
