"""Keyword-spotting data: words spoken by espeak-ng, 1 s clips at 16 kHz, synthesized noise.

Twelve classes as in the Speech Commands task: ten keywords, ``silence`` (background noise
only) and ``unknown`` (other words). A *voice* is an espeak-ng accent plus a voice variant
(``en-gb-scotland+f3``) at a speed, pitch and amplitude; the variants are split into train,
validation and test sets, so every test voice is one the model never heard. Each utterance
is trimmed, given a random level and position in the 1 s window and mixed with one of six
synthesized noises (white, pink, brown, mains hum, fan, babble) at a random level.

Only numpy and the ``espeak-ng`` program are needed (Debian package ``espeak-ng``).
"""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

RATE = 16000
CLIP = 16000
KEYWORDS = ("down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes")
LABELS = (*KEYWORDS, "silence", "unknown")
SILENCE, UNKNOWN = 10, 11
UNKNOWN_WORDS = (
    "bed", "bird", "cat", "dog", "eight", "five", "four", "happy", "house", "marvin", "nine", "one",
    "seven", "sheila", "six", "three", "tree", "two", "wow", "zero", "learn", "follow", "forward",
    "backward", "visual", "hello", "yellow",
)
ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd", "en-029",
           "en-us-nyc")
# espeak-ng 1.51's voice variants (espeak-ng-data/voices/!v); "" is the accent's own voice
VARIANTS = (
    "", "Alex", "Alicia", "Andrea", "Andy", "Annie", "AnxiousAndy", "Demonic", "Denis", "Diogo", "Gene", "Gene2",
    "Henrique", "Hugo", "Jacky", "Lee", "Marco", "Mario", "Michael", "Mike", "Mr serious", "Nguyen", "RicishayMax",
    "RicishayMax2", "RicishayMax3", "Storm", "Tweaky", "UniRobot", "adam", "anika", "anikaRobot", "announcer",
    "antonio", "aunty", "belinda", "benjamin", "boris", "caleb", "croak", "david", "ed", "edward", "edward2", "f1",
    "f2", "f3", "f4", "f5", "fast", "grandma", "grandpa", "gustave", "iven", "iven2", "iven3", "iven4", "john",
    "kaukovalta", "klatt", "klatt2", "klatt3", "klatt4", "klatt5", "klatt6", "linda", "m1", "m2", "m3", "m4", "m5",
    "m6", "m7", "m8", "marcelo", "max", "michel", "miguel", "norbert", "pablo", "paul", "pedro", "quincy", "rob",
    "robert", "robosoft", "robosoft2", "robosoft3", "robosoft4", "robosoft5", "robosoft6", "robosoft7",
    "robosoft8", "sandro", "shelby", "steph", "steph2", "steph3", "travis", "victor", "whisper", "whisperf", "zac",
)
NOISES = ("white", "pink", "brown", "hum", "fan", "babble")


def split_variants(seed: int, n_test: int = 20, n_val: int = 10) -> dict[str, tuple[str, ...]]:
    """Voice variants of each split (disjoint): the test voices are never heard in training."""
    order = np.random.default_rng(seed).permutation(len(VARIANTS))
    names = [VARIANTS[i] for i in order]
    return {"test": tuple(sorted(names[:n_test])), "val": tuple(sorted(names[n_test:n_test + n_val])),
            "train": tuple(sorted(names[n_test + n_val:]))}


@dataclass(frozen=True)
class Voice:
    accent: str
    variant: str
    speed: int  # words per minute
    pitch: int  # 0..99
    amplitude: int  # 0..200

    @property
    def name(self) -> str:
        return self.accent + (f"+{self.variant}" if self.variant else "")


def random_voice(rng: np.random.Generator, variants: tuple[str, ...]) -> Voice:
    return Voice(accent=ACCENTS[rng.integers(len(ACCENTS))], variant=variants[rng.integers(len(variants))],
                 speed=int(rng.integers(110, 211)), pitch=int(rng.integers(15, 86)),
                 amplitude=int(rng.integers(60, 181)))


def espeak() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError("espeak-ng not found: install the Debian package espeak-ng to synthesize KWS data")
    return exe


def speak(word: str, voice: Voice) -> np.ndarray:
    """espeak-ng's utterance of ``word`` as float samples at 16 kHz (full scale 1.0)."""
    cmd = [espeak(), "-v", voice.name, "-s", str(voice.speed), "-p", str(voice.pitch), "-a", str(voice.amplitude),
           "--stdout", word]
    wav = subprocess.run(cmd, capture_output=True, check=True).stdout
    if wav[:4] != b"RIFF" or len(wav) <= 44:
        raise RuntimeError(f"espeak-ng gave no audio for {word!r} with voice {voice}")
    rate = int.from_bytes(wav[24:28], "little")
    x = np.frombuffer(wav[44:44 + (len(wav) - 44) // 2 * 2], dtype="<i2").astype(np.float64) / 32768.0
    return resample(x, rate, RATE)


def speak_all(jobs: list[tuple[str, Voice]], workers: int = 2) -> list[np.ndarray]:
    with ThreadPoolExecutor(workers) as ex:
        return list(ex.map(lambda j: speak(*j), jobs))


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Band-limited resampling by truncating (or zero-padding) the spectrum."""
    if rate_in == rate_out:
        return x
    n_out = int(round(len(x) * rate_out / rate_in))
    spec = np.fft.rfft(x)
    keep = n_out // 2 + 1
    if keep <= len(spec):
        spec = spec[:keep]
    else:
        spec = np.concatenate([spec, np.zeros(keep - len(spec), spec.dtype)])
    return np.fft.irfft(spec, n_out) * (n_out / len(x))


def trim(x: np.ndarray, rel: float = 0.03, pad: int = 160) -> np.ndarray:
    """The utterance without the leading/trailing silence espeak-ng adds."""
    env = np.convolve(np.abs(x), np.ones(80) / 80, mode="same")
    loud = np.nonzero(env > rel * env.max())[0] if len(env) and env.max() > 0 else np.array([], int)
    if not len(loud):
        return x[:0]
    return x[max(loud[0] - pad, 0):loud[-1] + pad]


def noise(rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
    """n samples of a synthesized background noise, RMS 1."""
    if kind == "hum":
        f0 = 50.0 if rng.random() < 0.5 else 60.0
        t = np.arange(n) / RATE
        x = sum(rng.uniform(0.2, 1.0) / h * np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 6.3)) for h in range(1, 8))
        x = x + 0.05 * rng.standard_normal(n)
    else:
        spec = np.fft.rfft(rng.standard_normal(n))
        f = np.fft.rfftfreq(n, 1 / RATE)
        if kind == "pink":
            spec[1:] /= np.sqrt(f[1:])
        elif kind == "brown":
            spec[1:] /= f[1:]
        elif kind == "fan":
            spec *= 1 / (1 + (f / rng.uniform(300, 1500)) ** 2)
            peak = rng.uniform(90, 400)
            spec *= 1 + 8 * np.exp(-0.5 * ((f - peak) / 6) ** 2)
        elif kind == "babble":
            spec *= np.exp(-0.5 * ((f - 500) / 600) ** 2) + 0.3 * np.exp(-0.5 * ((f - 1800) / 700) ** 2)
        spec[0] = 0
        x = np.fft.irfft(spec, n)
        if kind == "babble":  # syllable-rate modulation of several talkers
            t = np.arange(n) / RATE
            env = sum(np.maximum(np.sin(2 * np.pi * rng.uniform(2, 6) * t + rng.uniform(0, 6.3)), 0) for _ in range(4))
            x = x * (0.3 + env)
    rms = np.sqrt(np.mean(x * x))
    return x / rms if rms > 0 else x


def db(v: float) -> float:
    return 10 ** (v / 20)


def place(rng: np.random.Generator, word: np.ndarray, n: int = CLIP) -> np.ndarray:
    """The word at a random level (peak -26..-3 dBFS) and position in an n-sample clip."""
    out = np.zeros(n)
    if len(word) > n:  # very slow speech: keep the middle
        s = (len(word) - n) // 2
        word = word[s:s + n]
    peak = np.abs(word).max()
    if peak > 0:
        word = word * (db(rng.uniform(-26, -3)) / peak)
    at = int(rng.integers(0, n - len(word) + 1))
    out[at:at + len(word)] = word
    return out


def add_noise(rng: np.random.Generator, x: np.ndarray, lo_db: float = -70, hi_db: float = -35,
              p: float = 0.85) -> np.ndarray:
    if rng.random() < p:
        x = x + db(rng.uniform(lo_db, hi_db)) * noise(rng, NOISES[rng.integers(len(NOISES))], len(x))
    return x


def to_pcm16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x * 32768.0), -32768, 32767).astype(np.int16)


def make_split(rng: np.random.Generator, variants: tuple[str, ...], per_keyword: int, n_unknown: int,
               n_silence: int, workers: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(clips int16 (N, 16000), labels (N,)) for one split, in a shuffled order."""
    jobs: list[tuple[str, Voice]] = []
    labels: list[int] = []
    for k, w in enumerate(KEYWORDS):
        for _ in range(per_keyword):
            jobs.append((w, random_voice(rng, variants)))
            labels.append(k)
    for _ in range(n_unknown):
        jobs.append((UNKNOWN_WORDS[rng.integers(len(UNKNOWN_WORDS))], random_voice(rng, variants)))
        labels.append(UNKNOWN)
    words = speak_all(jobs, workers)
    clips = [to_pcm16(add_noise(rng, place(rng, trim(w)))) for w in words]
    for _ in range(n_silence):
        if rng.random() < 0.1:  # near digital silence: a few LSBs of noise
            x = db(rng.uniform(-96, -84)) * rng.standard_normal(CLIP)
        else:
            x = db(rng.uniform(-75, -30)) * noise(rng, NOISES[rng.integers(len(NOISES))], CLIP)
        clips.append(to_pcm16(x))
        labels.append(SILENCE)
    order = rng.permutation(len(clips))
    return np.stack(clips)[order], np.array(labels, dtype=np.int8)[order]
