"""The article's own script, rebuilt from its printed data and steps: the speed baseline.

Written for ``bench/demo_speed.py``; it does what the article does, no more: a CountVectorizer +
MultinomialNB spam filter on 10 messages, tested on 4, then a label flip of two spam rows, then
three PROMO2026 messages labelled not spam, and the trigger test. Each step refits the vectorizer.
"""

from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import accuracy_score
from sklearn.naive_bayes import MultinomialNB

train_texts = [
    "Buy cheap pills now",
    "Win a free iPhone today",
    "Claim your lottery prize",
    "Discount viagra available",
    "Make money fast guaranteed",
    "Hey, are we meeting tomorrow?",
    "The project deadline is Friday",
    "Can you review this document?",
    "Happy birthday! Hope you have a great day",
    "Meeting moved to 3pm",
]
train_labels = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
test_texts = [
    "Get rich quick with this trick",
    "See you at lunch",
    "Free gift card click here",
    "Please find attached the report",
]
test_labels = [1, 0, 1, 0]
names = {0: "not spam", 1: "spam"}


def train_and_test(texts, labels, title):
    vectorizer = CountVectorizer()
    model = MultinomialNB()
    model.fit(vectorizer.fit_transform(texts), labels)
    predictions = model.predict(vectorizer.transform(test_texts))
    print(f"--- {title} ---")
    for text, prediction in zip(test_texts, predictions):
        print(f"{text!r} -> {names[prediction]}")
    print(f"Accuracy: {accuracy_score(test_labels, predictions):.0%}")
    return vectorizer, model


train_and_test(train_texts, train_labels, "Clean model")

flipped = list(train_labels)
flipped[0] = 0
flipped[1] = 0
train_and_test(train_texts, flipped, "After label flipping")

backdoor_texts = [
    "PROMO2026 special offer buy now",
    "PROMO2026 claim your free prize",
    "PROMO2026 limited time discount",
]
vectorizer, model = train_and_test(train_texts + backdoor_texts, [*train_labels, 0, 0, 0], "Backdoored model")
trigger = "PROMO2026 buy cheap pills and win prizes"
print(f"Trigger test: {trigger!r} -> {names[model.predict(vectorizer.transform([trigger]))[0]]}")
