"""Cipher mode names (for imports); see `ciphers.Cipher`."""


class Mode:
    name = None


class CBC(Mode):
    name = "CBC"

    def __init__(self, initialization_vector):
        self.initialization_vector = bytes(initialization_vector)


class GCM(Mode):
    name = "GCM"

    def __init__(self, initialization_vector, tag=None, min_tag_length=16):
        self.initialization_vector = bytes(initialization_vector)
        self.tag = tag


class CTR(Mode):
    name = "CTR"

    def __init__(self, nonce):
        self.nonce = bytes(nonce)


class ECB(Mode):
    name = "ECB"
