"""Writes src/bleu/fixtures/sacrebleu-2.6.0.json: 13a tokenisations and BLEU scores computed by
sacreBLEU itself, the oracle of src/bleu/bleu.test.ts. Run with sacrebleu 2.6.0 installed:

    python3 scripts/sacrebleu-fixture.py > src/bleu/fixtures/sacrebleu-2.6.0.json
"""
import json
import sacrebleu
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

LINES = [
    "The dog bit the man.",
    "It wasn't surprising.",
    "Prices rose 3.5% in 2019-2020, i.e. from $1,000.50 to $1,035.",
    "He said: \"Stop!\" -- and (quietly) left; [really] {no} <tag> a|b ~x^y_z `q` @me #1 &amp; &quot;x&quot; &lt;b&gt;",
    "e-mail: a.b@c.com, 10-20 items... end.",
    "line one-\nline two\nthree <skipped> four",
    "Ünïcödé — “quotes” ‘single’ … naïve café 1,2.3",
    "tabs\tand\u00a0nbsp\u2003em-space\u3000ideographic",
    "trailing spaces   ",
    "3.14,2.71 .5 5. ,7 7,",
    "",
]

HYPS = [
    "The cat sat on the mat.",
    "Prices rose 3.5% in 2019-2020.",
    "He said \"stop\" and left quietly.",
    "No match at all here",
    "",
    "e-mail me at a.b@c.com, please!",
]
REFS = [
    ["The cat is on the mat.", "Prices went up 3.5% during 2019-2020.", "He said: \"Stop!\" -- and left.", "Something else entirely", "Empty hypothesis reference.", "Mail me: a.b@c.com, please."],
    ["There is a cat on the mat.", "Prices rose by 3.5% in 2019-2020.", "\"Stop,\" he said, and quietly left.", "Also different", "", "e-mail a.b@c.com please!"],
]

def score(hyps, refs, **kw):
    s = sacrebleu.corpus_bleu(hyps, refs, **kw)
    return {"score": s.score, "counts": list(s.counts), "totals": list(s.totals), "bp": s.bp, "sys_len": s.sys_len, "ref_len": s.ref_len}

tok = Tokenizer13a()
out = {
    "generator": f"sacrebleu {sacrebleu.__version__}",
    "tokenize13a": [[line, tok(line)] for line in LINES],
    "corpus": [
        {"options": {}, "hyps": HYPS, "refs": REFS, **score(HYPS, REFS)},
        {"options": {"smoothMethod": "none"}, "hyps": HYPS, "refs": REFS, **score(HYPS, REFS, smooth_method="none")},
        {"options": {"smoothMethod": "floor", "smoothValue": 0.1}, "hyps": HYPS, "refs": REFS, **score(HYPS, REFS, smooth_method="floor", smooth_value=0.1)},
        {"options": {"smoothMethod": "add-k", "smoothValue": 1}, "hyps": HYPS, "refs": REFS, **score(HYPS, REFS, smooth_method="add-k", smooth_value=1)},
        {"options": {"lowercase": True}, "hyps": HYPS, "refs": REFS, **score(HYPS, REFS, lowercase=True)},
        {"options": {"tokenize": "none"}, "hyps": HYPS, "refs": REFS, **score(HYPS, REFS, tokenize="none")},
        {"options": {}, "hyps": HYPS, "refs": REFS[:1], **score(HYPS, REFS[:1])},
    ],
}
print(json.dumps(out, ensure_ascii=False, indent=1))
