"""Placeholder: being written."""
NAME = "lac2012"
LOOKS_FOR = ""


def recognise(document):
    return False


def parse(document, context):
    raise NotImplementedError
