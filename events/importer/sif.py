"""Placeholder: being written."""
NAME = "sif"
LOOKS_FOR = ""


def recognise(document):
    return False


def parse(document, context):
    raise NotImplementedError
