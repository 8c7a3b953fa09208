"""Publishing a detector: its model card, the checks the card passes, and the push to the Hub
(``detector_card``)."""
