"""English text -> ARPAbet pronunciations, as a text-to-speech front end or a lexicon builder wants them:
CMUdict first (after a user's own lexicon), numbers and symbols read aloud, and the zoo's `g2p_en` model
for the words no lexicon lists, batched across a call.

    >>> from keras_transformer import g2p
    >>> [(p.token, p.phonemes, p.source) for p in g2p.pronounce("I read 3 books.")]  # doctest: +SKIP
    [('I', 'AY1', 'lexicon'), ('read', 'R EH1 D', 'lexicon'), ('3', 'TH R IY1', 'cardinal'),
     ('books', 'B UH1 K S', 'lexicon'), ('.', '', 'punctuation')]

`keras-transformer pronounce TEXT...` is the same on the command line. Nothing here imports TensorFlow
(the model runs in the zoo's default runtime) or reaches the network.
"""

from keras_transformer.g2p.lexicon import Lexicon, LexiconError
from keras_transformer.g2p.pronounce import Pronouncer, Pronunciation, pronounce

__all__ = ["Lexicon", "LexiconError", "Pronouncer", "Pronunciation", "pronounce"]
