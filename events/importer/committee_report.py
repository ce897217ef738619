"""Placeholder: being written."""
NAME = "committee_report"
LOOKS_FOR = ""


def recognise(document):
    return False


def parse(document, context):
    raise NotImplementedError
