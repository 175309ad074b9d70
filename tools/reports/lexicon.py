"""Radiology findings, anatomy and sides with their lay synonyms, as compiled patterns.

Why a curated lexicon: a patient-friendly rewrite replaces "pleural effusion" with "fluid
around the lung"; a checker that only matched exact terms would call every faithful
rewrite an omission. Each concept lists technical and lay surface forms. In a form, `~`
allows up to five filler words ("fluid ~ lung" matches "fluid building up around the
lung"), `~~` up to ten, and a trailing `*` allows any word ending ("calcif*").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Where fluid sits for it to be a pleural effusion: around/on the lung, not in it (oedema).
_BESIDE = ("(around|surrounding|outside|on|beside|by|near|next to|behind|below|under|underneath|at the (base|bottom) of|"
           "lining|covering|between)")

# concept -> surface forms (technical first, then lay). Keep concepts distinct: two concepts
# must not share a form, or an omission of one would be hidden by the other.
FINDINGS: dict[str, tuple[str, ...]] = {
    "pleural effusion": ("pleural effusion*", "effusion*", f"fluid ~ {_BESIDE} ~ lung*", f"fluid {_BESIDE} lung*",
                         "fluid ~ chest",
                         "fluid ~ lining of the lung*", f"fluid collection* ~ {_BESIDE} ~ lung*", f"water ~ {_BESIDE} ~ lung*",
                         "pleural fluid"),
    "pericardial effusion": ("pericardial effusion*", "heart ~~ fluid (around|surrounding) it", "fluid (around|surrounding|round) (the |your |his |her )?heart", "fluid ~ sac ~ heart"),
    "pneumothorax": ("pneumothora*", "collapsed lung*", "lung* (has|is|was|had|have|are|hasn't|isn't|wasn't|haven't|aren't)"
                     " (not\\s+)?(been\\s+)?collapsed", "collapse of (a|the|your|one) lung", "lung collapse",
                     "air (around|outside|surrounding) ~ lung*", "air leak*", "air ~ (leak*|escap*) ~ lung*", "air between ~ chest wall",
                     "air in the chest", "(pocket|pockets|collection|bubble) of air ~ lung*", "air in the pleural space", "air ~ (lining|space) ~ lung*"),
    "consolidation": ("consolidation*", "consolidat*", "airspace opacit*", "air-space opacit*",
                      "area* of the lung* filled with ~", "lung* ~ filled with fluid", "pneumonia*",
                      "chest infection*", "lung infection*", "infection*", "infected area*"),
    "atelectasis": ("atelecta*", "partly collapsed", "partially collapsed", "partial collapse",
                    "deflated", "not fully inflated", "not fully expanded", "collapse of part",
                    "lung* ~~ squash*", "squash* ~ lung*", "lung* ~ (slightly|a little|a bit|partly) collapsed",
                    "lung* ~ not (fully|properly) (inflated|expanded|open*)"),
    "cardiomegaly": ("cardiomegaly", "(enlarged|large|big|bigger|larger|swollen|dilated) heart",
                     "heart ~ (enlarged|enlargement|larger|bigger|dilated|swollen|big than|large than)",
                     "enlarged cardiac (silhouette|size|shadow|outline)",
                     "cardiac (silhouette|shadow|outline|size) ~ (enlarged|enlargement|increased|prominent|large|larger|big|bigger)",
                     "cardiac enlargement", "cardiothoracic ratio ~ (increased|enlarged|above)",
                     "heart size ~ (increased|enlarged|above normal|upper limit* of normal)", "heart ~ upper limit*"),
    "nodule": ("nodul*", "small spots?", "spots?", "small lumps?", "lumps?", "small round*", "round shadow*"),
    "mass": ("mass", "masses", "a growth", "large lumps?", "tumou?r*", "neoplas*"),
    "lesion": ("lesion*", "focus", "abnormal area*", "abnormal spot*", "abnormal patch*", "dark (area|areas|patch|patches)", "lucenc*", "radiolucenc*",
               "(area|spot|patch) ~ (looks|appears|shows up) (bright|dark|darker|brighter|different)"),
    # Something that blocks contrast inside a vessel or duct: a clot, a stone, a growth.
    "filling defect": ("filling defect*",),
    "cyst": ("cyst", "cysts", "cystic", "cystic (lesion|lesions|mass|masses|structure|area)", "fluid-filled sac*", "fluid filled sac*", "fluid sac*(?! that cushion)", "fluid-filled pocket*",
             "fluid-filled (swelling*|lump*|bubble*|blister*|spot*|area*|bump*|nodul*|pouch*)",
             "(nodul*|lump*|spot*|bump*) ~ (filled with|full of|containing) fluid",
             "fluid filled pocket*", "sac of fluid", "pocket* of fluid", "bubble* of fluid"),
    "fracture": ("fractur*", "broken", "break*", "crack*",
                 "(bone|bones|vertebra*|back|spine|backbone) ~ (squash*|crush*|collapsed|flattened|caved in)",
                 "(squashed|crushed|collapsed|flattened) (bone|vertebra*|backbone)",
                 "(compression|wedge) (fractur*|deformit*)", "wedg* (deformit*|vertebra*)"),
    "haemorrhage": ("haemorrhag*", "hemorrhag*", "bleed*", "bled", "blood (in|inside|on|around|over|within) ~ brain", "hematoma*", "haematoma*",
                    "collection of blood", "pool* of blood", "bruis*"),
    "infarct": ("infarct*", "scar* (of|from|left by) ~ (stroke*|infarct*)", "dead (area|part|patch|region)s? of ~ tissue", "(area|patch)e?s? of dead ~ tissue", "(cut off|blocked|stopped) (its|their|the) blood", "blood (supply|flow) ~ (cut off|blocked)", "damage* ~ (losing|loss of|lack of|lost|cut off) ~ blood supply", "stroke*", "area* of damage ~ blood supply", "lack of blood supply",
                "blocked blood supply", "blocked blood flow", "tissue damage ~ blood flow"),
    "stone": ("calcul*", "lithiasis", "nephrolith*", "cholelith*", "gallstone*", "stone*", "appendicolith*", "f(a)?ecolith*"),
    "hydronephrosis": ("hydronephros*", "hydro-?uretero-?nephros*", "hydroureter*", "swollen kidney*", "kidney* ~ swollen",
                       "kidney* and (its|the|their) (tube|tubes|ureter|ureters|drainage tube|drainage tubes) ~ swollen",
                       "(swelling|swollen) ~~ kidney* (from|due to|because of|caused by) ~ (blocked|backed-up|trapped) urine", "kidney* ~ stretched",
                       "kidney* ~ swelling", "swelling of the kidney*", "kidney* ~ backed up",
                       "urine ~ backed up", "urine ~ back up", "dilated collecting system",
                       "(swollen|stretched|dilated|distended|waterlogged) kidney*", "kidney* ~ (dilated|distended|full of urine)",
                       "urine ~ (not draining|can't drain|cannot drain|backing up|backs up|building up|build-?up|trapped)"),
    "emphysema": ("emphysema*", "copd", "damaged air sacs", "damage* ~ air sacs", "air sacs ~ damaged",
                  "chronic obstructive (pulmonary|lung) disease"),
    "fibrosis": ("fibros*", "fibrotic", "scarring", "scar", "scars", "scarred", "scar tissue"),
    "adhesions": ("adhesion*", "band* of scar*", "scar tissue band*", "scar band*", "band* of fibrous tissue",
                  "scar tissue ~ (stuck|sticking|joining|tethering|pulling)"),
    "avascular necrosis": ("avascular necrosis", "osteonecros*", "bone infarct*", "avn",
                           "bone* ~ (dying|dead|die|died|death)", "(dying|dead) bone*", "death of ~ bone*",
                           "loss of blood supply to ~ bone*", "bone* ~ (losing|lost|lack*) ~ blood supply"),
    "displacement": ("displace*", "undisplaced", "non-?displaced", "angulat*", "flap ~ flipped", "flipped (into|over|out)",
                     "(break|crack|fracture|bone|pieces|fragments|ends|bone ends|broken ends) ~ (moved|shifted)( out of (place|line|position|alignment))?",
                     "(flap|fragment|piece) ~ (has |have )?(moved|shifted|slipped) (into|to|out)",
                     "(moved|shifted) (by )?\\d+ ?mm", "bent (toward|towards|by|at an angle)*", "tilt* ~ (degrees|backward*|forward*|back|toward*)",
                     "(pieces|fragments|ends|bone ends|broken ends) ~ (moved|shifted|slipped|out of (place|line|position))",
                     "(shift|movement) of the (pieces|fragments|bone ends|broken ends|bones?)",
                     "(moved|shifted) out of (place|position|line)"),
    "perforation": ("perforat*", "hole in the (bowel|gut|intestine*|stomach|colon|wall of the bowel)",
                    "(bowel|gut|intestine*|appendix) ~ (burst|ruptured)"),
    "lymphadenopathy": ("lymphadenopath*", "enlarged lymph (nodes?|glands?)", "lymph (nodes?|glands?) ~~ (enlarged|swollen|bigger|larger)",
                        "swollen lymph (nodes?|glands?)", "(enlarged|swollen|prominent) ~ lymph (nodes?|glands?)", "enlarged glands", "swollen glands", "adenopath*",
                        "prominent (lymph )?(nodes?|glands?)",
                        "glands? (that|which) (fight|help fight|help the body fight) (infection|germs) ~~ (enlarged|swollen|bigger)",
                        "glands? (in|under) ~ (armpit*|neck|groin|chest) ~~ (enlarged|swollen|bigger)"),
    "ascites": ("ascites", "fluid ~ belly", "fluid ~ abdomen", "fluid ~ tummy", "fluid ~ abdominal"),
    "steatosis": ("steatos*", "steatotic", "fatty liver", "fatty infiltration", "fat ~ liver", "fat build-?up", "(and|is|looks|appears|seems) (a bit |slightly |mildly )?fatty(?! (areas?|tissue|parts?))",
                  "liver ~ (extra|too much|excess) fat",
                  "fatty (change*|infiltrat*)"),
    "osteoporosis": ("osteopor*", "osteopen*", "thin* bones(?! (separating|between|that separate|which separate|around the))", "bones ~ thin*", "bones? (around|near|of|in) ~~ thinn*", "weak* bones", "brittle bones",
                     "(low|reduced|decreased) bone (density|mineral*)", "bone (density|mineral*) ~ (low|reduced|decreased)"),
    "cirrhosis": ("cirrho*", "scarred liver", "liver ~ (scarring|scarred)", "scarring ~ (of|in) ~ liver",
                  "nodular liver (contour|outline|surface|margin|edge)s?", "liver ~ (nodular|lumpy|bumpy|knobbly) (contour|outline|surface|edge)s?"),
    # swollen veins of the gullet and stomach from raised pressure in the liver's veins
    "varices": ("varices", "varix", "(oesophageal|esophageal|gastric|perigastric|paraoesophageal|paraesophageal) varic*",
                "(swollen|enlarged|dilated|widened|bulging) veins ~ (food pipe|gullet|oesophag*|esophag*|stomach)"),
    "aneurysm": ("aneurysm*", "aaa", "bulg* ~ artery", "bulg* ~ aorta", "widen* ~ aorta", "ballooning"),
    "embolism": ("embol(?!i[sz]ation)*", "PE", "blood clot*", "clot*", "thromb*", "dvt", "non-?compressible", "incompressible"),
    "edema": ("oedema*", "edema*", "bone bruis*", "bones? ~ bruis*", "bruis* (inside|in|within|of) (the |a )?bones?", "bruis* ~ (thigh|shin|knee|arm|heel|ankle|wrist|hip) bone*",
              "(blood vessels|vessels) ~~ (full|fuller|engorged|overfilled|congested)", "swelling", "swollen", "fluid build-?up", "congest*", "puff*",
              "water retention", "waterlogged", "fluid (in|inside|within|filling) ~ lung*",
              "(wet|waterlogged|congested) lung*", "fluid ~ lung tissue", "lung tissue ~ fluid"),
    "hydrocephalus": ("hydrocephal*", "ventriculomegaly", "(fluid|ventricles) (spaces|chambers)? ~~ (enlarged|widened|dilated|swollen)",
                      "enlarged (ventricles|fluid spaces|fluid chambers)", "too much fluid in the brain",
                      "build-?up of fluid in the brain"),
    "varicocele": ("varicocele*", "varicocoele*", "(swollen|enlarged|dilated|widened|varicose) veins",
                   "veins (above|around|near|by|next to) ~ (testicle*|testis|testes|scrotum) ~~ (swollen|enlarged|dilated|widened)"),
    "fibroadenoma": ("fibroadenoma*",),
    "dislocation": ("dislocat*", "(slipped|popped|come|came) ~ out of ~ (socket|joint)", "popped out", "out of (joint|its socket|the socket)", "malalign*", "misalign*", "out of line", "out of alignment", "out of place",
                    "subluxat*"),
    "aspiration": ("aspiration", "aspirated", "breathed in", "inhaled (food|fluid|stomach|material|contents)",
                   "inhaled stomach contents", "breathed into the lung*"),
    "atrophy": ("atroph*", "(fluid )?spaces ~~ roomier", "(muscle|muscles) ~~ (shrink*|fat in it)", "(started|begun|beginning) to shrink", "(muscle|muscles) ~~ (thinner|smaller|shrunk*|wasted|weaker) and (a bit |slightly |mildly |more )?fatty", "shrink* of (the )?brain", "muscle wasting", "(muscle|muscles) ~~ (shrunk*|smaller than|wasted|wasting|thinner|thinned|lost ~ bulk)", "volume loss", "loss of ~ volume", "brain ~ shrunk", "shrinkage", "brain ~ shrinking",
                "brain ~ (shrunken|smaller than|lost ~ volume|thinning)", "shrunken",
                "shrink* ~~ (with|of) (age|ageing|aging|getting older)", "(hippocamp*|memory cent*) ~~ (shrunk*|shrink*|smaller|thinner)"),
    "heart strain": ("heart strain", "heart ~ strain", "ventricular strain", "strain on ~ heart", "heart ~ under strain",
                     "strain* (on )?(your |the )?heart",
                     "heart ~ strained"),
    "fat stranding": ("fat stranding", "stranding", "inflamed fat", "fat* ~~ (inflam*|irritat*|swollen|hazy|streak*)",
                      "(inflammation|irritation|swelling|haziness|streaking) (of|in) (the|some)? (fat|fatty tissue)",
                      "(inflamed|irritated|swollen|hazy|streaky) (fat|fatty tissue)"),
    "plaque": ("plaque*", "atheroma*", "atherosclerosis", "hardening(?= (with calcium )?(in|of) (the |your )?arter)", "fatty build-?up", "fatty deposit*", "hardening of the arter*"),
    "bursitis": ("bursitis", "inflamed bursa", "bursa ~ inflamed", "inflammation of the bursa"),
    "cartilage thinning": ("chondral thinning", "chondral loss", "chondromalacia", "(worn|thinned|thin) (joint )?cartilage", "cartilage ~~ (thinn*|worn|wear|soften*)",
                           "(smooth|joint) lining ~~ (thinn*|worn|wear|soften*)",
                           "thinning of the cartilage", "thinning of ~ cartilage", "chondral fissur*",
                           "partial-thickness (cracking|cracks?|fissur*)", "(cartilage|chondral) (defect*|loss|wear)", "thinned cartilage", "cartilage loss"),
    "extension": ("extraprostatic extension", "(goes|go|going|grow*|spread*|extend*|reach*) (out )?(beyond|outside|through|past) ~ (prostate|capsule|gland)", "extracapsular extension", "extend* (beyond|outside) ~ (prostate|capsule)",
                  "spread (beyond|outside) ~ prostate", "extension (beyond|outside)"),
    "biopsy": ("biops*", "fna", "needle test*", "tissue sampling", "needle aspiration", "fine-needle aspiration", "fine needle aspiration", "sample of cells",
               "sample ~ (with|using|through) ~ needle", "needle ~ (take|takes|taking|remove*) ~ sample",
               "tissue sample*", "sample of tissue", "(take|takes|taking|took|remove|removes|removing) ~ cells ~~ needle"),
    "herniation": ("herniat*", "hernia*", "slipped disc", "bulging disc", "disc bulge*", "disc protrusion*",
                   "protrusion*", "bulg* ~ disc", "disc ~ (bulg*|slipped|(pushed|pushing|pushes|squeezed|squeezing|sticking|sticks|poking|pokes|bulged|bulging) out)",
                   "prolapsed disc", "disc prolapse", "extru*",
                   "(soft )?(centre|center|core|inner (part|gel|jelly)|jelly|gel) ~ (pushed|pushing|pushes|bulg*|squeez*|squirt*|leak*) out"),
    "stenosis": ("stenos*", "stenotic", "narrow*"),
    "calcification": ("calcifi*", "hardened(?= (gallstone|stone|calcul))", "microcalcif*", "phlebolith*", "calcium deposit*", "calcium build-?up", "calcium",
                      "chondrocalcinosis"),
    # a child's fracture reaching the growth plate (a Salter-Harris injury) can disturb growth
    "physeal involvement": ("physeal (involvement|extension|injury)", "(physis|physes|physeal plate|growth plates?) ~ (involved|affected|crossed|reached)",
                            "(involv*|runs? into|running into|extend* into|reach*|cross*|go into|goes into|going into|gone into|enter*|through) ~ (physis|physes|growth plates?)"),
    "disc desiccation": ("desiccat*", "(disc|discs) ~ (dried out|dehydrated|drier|dry)", "(disc|discs) ~ lost ~ water"),
    # one vertebra slipped on the one below: anterolisthesis forwards, retrolisthesis backwards
    "spondylolisthesis": ("spondylolisthes*", "anterolisthes*", "retrolisthes*", "listhesis",
                          "(vertebra*|bones?) ~ slip* (forward|forwards|backward|backwards)", "slipped vertebra*",
                          "vertebra* ~ (slipped|slipping|slid|sliding|shifted) ~ (on|over)", "grade (1|2|one|two|i|ii) slip"),
    "degeneration": ("degenerat*", "wear and tear", "wear-and-tear", "wear", "spondylos*", "osteoarthrit*", "arthrosis", "arthroses",
                     "arthritis", "arthritic", "arthropath*", "worn", "joint space (loss|narrowing|narrowed|reduction)",
                     "(loss|narrowing) of (the )?joint space", "compartment (joint space )?narrow*", "(joint space|space (in|inside|within) the joint) ~ (narrow*|smaller|reduced|lost)", "age-related change*", "ageing change*",
                     "aging change*"),
    "appendicitis": ("appendicitis", "inflamed appendix", "appendix ~ inflamed", "infected appendix"),
    "diverticulitis": ("diverticulitis", "inflamed pouch*", "infected pouch*", "inflamed diverticul*"),
    "diverticulosis": ("diverticulosis", "diverticula", "small pouches", "pouches ~ bowel wall",
                       "pouches ~ colon"),
    "gallbladder wall thickening": ("gallbladder wall thickening", "thickened gallbladder wall",
                                    "(gallbladder wall|wall of the gallbladder) ~ (thickened|thicker|thickening|too thick|very thick|"
                                    "is thick|looks thick|(normal|usual) thickness)"),
    "cholecystitis": ("cholecystitis", "inflamed gallbladder", "gallbladder ~ inflamed",
                      "gallbladder inflammation"),
    "splenomegaly": ("splenomegaly", "(enlarged|large|big|bigger|larger|swollen) spleen",
                     "spleen ~ (enlarged|larger|bigger|swollen)"),
    "hepatomegaly": ("hepatomegaly", "(enlarged|large|big|bigger|larger|swollen) liver",
                     "liver ~ (enlarged|larger|bigger|swollen)"),
    "thyroid nodule": ("thyroid nodul*",),
    "fibroid": ("fibroid*", "leiomyoma*", "myoma*", "(non-cancerous|benign|harmless) (muscle )?growth* ~ (womb|uterus)",
                "(non-cancerous|benign|harmless) muscle (growth*|lump*|swelling*)"),
    "tear": ("annular (tear|fissure)", "(crack*|tear|split) ~ (outer (layer|ring|part) of the )?disc", "tear", "tears", "torn", "split", "frayed", "torn (all the way )?through", "(tear|split) ~ all the way through",
             "(full|complete)(-|\\s)(thickness(-|\\s))?tear*"),
    "rupture": ("rupture*", "burst", "bursting", "snapped", "snapped ~ (through|in two|apart)"),
    "septal deviation": ("(septum|septal) ~ deviat*", "deviated (nasal )?septum", "septal deviation", "deviation of the (nasal )?septum",
                         "(septum|wall between ~ nostrils|middle of ~ nose) ~ (bent|bends|crooked|lean*|curv*|shifted|pushed)"),
    "murphy sign": ("murphy('s|s|s')? sign", "(pain|tender*|hurt*|sore*) ~~ (probe|scanner|transducer)",
                    "(probe|scanner|transducer) ~~ (pain|tender*|hurt*|sore*)",
                    "(press*|push*) ~ gallbladder ~~ (pain|tender*|hurt*|sore*)"),
    "endplate change": ("modic*", "change* ~ (edges?|surfaces?|ends?) of (the )?(vertebra*|spinal bones?|back bones?)","end-?plate (change*|signal*|oedema|edema|degenerat*)",
                        "bone (surfaces?|edges?) ~ (next to|beside|near|around) ~ disc ~~ (irritat*|swelling|swollen|inflam*|oedema|edema)",
                        "change* ~ bone ~ (next to|beside|near|around) ~ disc"),
    "joint extension": ("intra-?articular extension", "extend* into ~ joint", "(goes|go|going|runs?|running|reach*|extend*) into ~ joint*",
                        "(into|involv*) the joint surface", "involv* ~ joint surface"),
    "haemothorax": ("haemothora*", "hemothora*", "blood ~ (around|outside|surrounding|between) ~ lung*",
                    "blood ~ (chest cavity|pleural space|lining of the lung*)"),
    "hydrocele": ("hydrocele*", "hydrocoele*", "fluid ~ (around|surrounding|beside|next to|by) ~ (testicle*|testis|testes)",
                  "fluid ~ scrotum"),
    "effusion (joint)": ("joint effusion*", "joint ~ (a small amount of|a little|a bit of|a touch of|a trace of|some) (extra )?fluid","fluid (in|inside|within|into) ~ joint", "fluid (in|inside|within|into) ~ knee",
                         "joint fluid", "bursal effusion*", "(subacromial|subdeltoid|subacromial-subdeltoid|olecranon|prepatellar|trochanteric) ~ effusion*",
                         "fluid (in|inside|within|into) ~ (bursa|sac|sac of fluid|pouch above ~ kneecap)", "bursal fluid", "fluid ~ above ~ kneecap",
                         "(knee|hip|ankle|elbow|shoulder|wrist|suprapatellar) ~ effusion*"),
    "metastasis": ("metasta*", "spread of cancer", "cancer ~ spread*", "spread* ~ cancer", "secondary deposit*",
                   "secondaries", "(cancer|tumou?r) ~ (travelled|moved) ~ (from|elsewhere)"),
    "cancer": ("cancer*", "malignan*", "carcinoma*", "hcc"),
    "pneumoperitoneum": ("pneumoperitoneum", "free air", "free gas", "loose (air|gas)", "(leaked|leaking|escaped) (air|gas)", "free (intraperitoneal|intra-peritoneal|peritoneal|abdominal) (air|gas)", "air ~ belly", "air ~ abdomen",
                          "air outside the bowel*", "gas outside the bowel*", "(air|gas) ~ (leak*|escap*) ~ (bowel*|gut|intestine*|belly|abdomen|tummy)",
                          "(air|gas) ~ outside ~ (bowel*|gut|intestine*)", "(air|gas) ~ (tummy|abdominal cavity)"),
    "obstruction": ("obstruct*", "non-?obstruct*", "blockage*", "block*", "occlu*",
                    # a partial blockage is a blockage: "non-occlusive thrombus" / "it partly blocks the vein"
                    "non-?occlusive", "partially occlusive", "partial (occlusion|blockage)", "(partly|partially) (block*|occlud*|obstruct*)"),
    "reversed flow": ("reversed flow", "reflux", "reversal of flow", "flow reversal", "retrograde flow",
                      "flow* ~ (backwards?|the wrong way|the wrong direction)"),
    "dilatation": ("dilat*", "widened", "widening", "stretched", "enlarged", "enlargement",
                   "(bigger|larger|wider) than (normal|usual|expected|it should be|they should be|it should|they should)"),
    "thickening": ("thickening", "thickened", "thicker than normal", "wall ~ (thickened|thicker|thickening|too thick|very thick|is thick|looks thick|are thick|(normal|usual) thickness)",
                   "(thick|thickened) ~ wall*"),
    "opacity": ("opacit*", "shadow*", "hazy area*", "haziness", "white area*", "cloudy area*", "patch*",
                "smudge*", "blurr* area*", "white spot*"),
    "ground-glass": ("ground-glass", "ground glass", "hazy", "haze"),
    "bronchiectasis": ("bronchiectasis", "widened airways", "airways ~ widened", "damaged airways"),
    "hyperinflation": ("hyperinflat*", "over-?inflated", "overexpanded", "over-expanded", "air trapping",
                       "trapped air", "air ~ trapped", "too much air ~ lung*", "over-?expansion",
                       "lung* ~ (over-?filled|overfilled|over-?full|puffed up) (with air)?"),
    "free fluid": ("free fluid", "fluid ~ pelvis", "fluid ~ (behind|beside|near) the (womb|uterus|ovar*)", "loose fluid", "small amount of fluid in the pelvis", "pericholecystic fluid",
                   "fluid ~ gallbladder", "fluid (around|surrounding|next to|beside) (it|them)"),
    # The fluid around a baby is measured in every pregnancy scan; it is no pocket (cyst) of its own.
    "amniotic fluid": ("amniotic fluid*", "liquor (volume)?", "deepest (vertical )?pocket*( of fluid)?",
                       "fluid (around|surrounding) (the|your) baby"),
    "placenta praevia": ("placenta (praevia|previa)", "praevia", "previa", "low-lying placenta", "placenta ~ low-lying", "placenta ~~ (is )?(lying|lies|sits|sitting) (too )?low", "low-lying(?! (conus|cord|spinal))",
                         "(covering|covers|cover|blocking|blocks|block|over|across) ~ (opening|neck) of ~ (womb|cervix|uterus)",
                         "(covering|covers|cover|blocking|blocks|block|over|across) the (cervix|internal os|os)"),
    "air-fluid level": ("air-fluid level*", "air fluid level*", "gas-fluid level*", "fluid level*",
                        "levels of ~ (air|gas) and fluid", "(air|gas) and fluid levels"),
    # Gas where it belongs (the colon) says a blockage is not complete; gas outside the bowel is free air.
    "bowel gas": ("(colonic|rectal|large bowel|bowel) gas", "gas (is )?(present )?(in|within|inside) (the |your )?"
                  "(colon|rectum|large bowel|large intestine|bowel|back passage)"),
    "heterotopic ossification": ("heterotopic ossification", "heterotopic bone", "(bits|pieces) of extra bone", "extra bone ~ (formed|forming|grown|growing)",
                                 "bone (has )?form(ed|ing) in the (soft tissues?|muscles?)"),
    "spur": ("spur*", "osteophyt*", "enthesophyt*", "bony (growth*|outgrowth*|lip*|projection*)",
             "bone spur*"),
    "vascular invasion": ("tumou?r in (the )?(portal )?(veins?|vessels?)", "(tumou?r|vascular|venous|portal vein) invasion",
                          "tumou?r thromb*", "(grown|grow*|invad*) into ~ (veins?|vessels?|blood vessels?)",
                          "tumou?r (growing|grown|spreading|spread) into (it|them)"),
    "epididymo-orchitis": ("epididymo-?orchitis", "epididymitis", "orchitis", "infect* ~ (testicle*|testis|epididym*)",
                           "(testicle*|testis|epididym*) ~ (infected|inflamed)"),
    "impacted tooth": (r"impact(ed|ion)(?!,?\s(in|at|within|into|on)\b)", "mesio-?angular*", "disto-?angular*", "tilted forwards? (towards|into|toward) ~ (tooth|teeth)",
                       "impacted\\)? and tilted forwards?"),
    "faecal loading": ("fa?ecal (load*|impaction|retention)", "stool (load*|burden)", "constipat*",
                       "(lot|lots|large amount|plenty|build-?up) of (stool|poo|faeces|feces)"),
    # a leg clot reaching the veins above the knee changes treatment
    "clot extension": ("proximal extension", "(spread*|extend*|reach*) (up )?into ~ (popliteal|femoral|thigh) vein*",
                       "(spread*|extend*|reach*) (up )?into ~ vein* behind the knee", "(spread*|extend*) (upward*|up the leg)"),
    "granuloma": ("granuloma*", "(old|healed) ~~ (scar*|infection*)"),
    "surgical clips": ("(surgical|metal|metallic) clip*", "clip*", "(surgical|skin) staple*", "staples"),
    # an infection at a tooth's root is a dental abscess, not a chest infection
    "abscess": ("abscess*", "pocket* of pus", "collection of pus", "pus",
                "infection (or abscess )?(at|in|around|of) (the )?(tip of (the |its )?)?(root tip|tooth root|tooth|teeth|gums?)"),
    "adenoma": ("adenoma*", "microadenoma*", "macroadenoma*", "benign gland* growth*"),
    "hemangioma": ("haemangioma*", "hemangioma*", "blood vessel* growth*", "tangle* of ~ blood vessels", "bundle* of ~ blood vessels",
                   "cluster* of ~ blood vessels"),
    "polyp": ("polyp*",),
    "enhancement": ("enhanc*", "(hypo|hyper|iso|non)-?enhanc*", "nodular enhancement", "light* up", "lit up", "tak* up ~ (contrast|dye)", "took up ~ (contrast|dye)",
                    "pick* up ~ (contrast|dye)", "(dye|contrast) ~ (filled|fills|filling) (it|them) in", "(the way|how) ~ (filled|fills|filling) (in )?with (the )?(dye|contrast)", "(filled|fills|filling) in with ~ (dye|contrast)", "contrast pattern", "pattern of (contrast|dye)"),
    "white matter changes": ("white matter (change*|disease|hyperintens*|lesion*|spot*|abnormalit*)",
                             "change* ~ (white matter|white parts? of the brain)",
                             "small vessel (ischaemic |ischemic )?(change*|disease)",
                             "(change*|damage|wear) ~~ (small|tiny) (blood )?vessel*", "small (blood )?vessel* ~ (change*|damage|disease)",
                             "small vessel disease", "small-vessel disease",
                             "small blood vessel ~ changes", "(small|tiny) (blood )?vessel* ~ (wear*|worn|damage*)"),
    "mass effect": ("mass effect", "midline shift", "mediastinal shift", "shift ~ midline",
                    "(compress*|pressing on|pushing on|squash*|press* against) ~ (optic )?chiasm",
                    "(pressing|pushing|press*) (on|against) ~ nerves? ~ (eye*|sight|vision|eyesight)",
                    "(optic )?chiasm ~ (compress*|squash*|pressed|pushed)",
                    "(pushing|pressing|pushes|presses) (on|against) ~ (brain|cord|spinal cord|chiasm|structures|organs?|airway|windpipe|trachea|heart|bowel|bladder)",
                    "shift* ~ (brain|midline|middle|centre|center)", "(brain|midline|middle|centre|center) ~ (shift*|pushed|moved)",
                    "push* ~ (brain|midline|middle of|centre of|center of)",
                    "push* to one side", "push* aside", "pushing it to one side", "shifted to one side"),
    "nerve compression": ("nerve root compression", "nerve compression", "compress* ~ nerve*", "nerve* ~ compress*",
                          "press* on ~ nerve*", "pinch* ~ nerve*", "(squeez*|squash*|crush*|trap*) ~ nerve*",
                          "nerve* ~ (squeez*|squash*|trapped|pinched|pressed|compressed)", "contacting ~ nerve*", "touch* ~ nerve*",
                          "impinge*", "trapped nerve*", "abut* ~ nerve*",
                          "(push*|displac*) (it|them|the nerve*) ~ out of (place|position)"),
    "sinusitis": ("sinusitis", "sinus disease", "mucosal thickening", "(air space*|air cell*|sinus*|cheek bone*) ~~ swelling (in|of) (its|the|their) lining", "inflamed sinus*", "sinus ~ inflamed",
                  "lining ~ sinus* ~~ (swollen|thick*|inflamed)", "sinus* ~ lining ~ (swollen|thick*|inflamed)",
                  "sinus* ~~ (swollen|thick*|inflamed) lining", "sinus infection*",
                  "(infection|inflammation|swelling) ~ sinus*", "fluid ~ sinus*", "swelling of the lining ~ sinus*",
                  "(sinus*|ethmoid*|air cells|maxillar*) ~~ (lining swelling|swollen lining|lining thickening|thickened lining)"),
}

ANATOMY: dict[str, tuple[str, ...]] = {
    "lung": ("lung*", "pulmonary", "lobe*", "chest", "thora*", "airway*", "bronch*"),
    "heart": ("heart", "cardiac", "pericardi*"),
    "liver": ("liver", "hepatic", "hepato*"),
    "kidney": ("kidney*", "renal", "nephr*"),
    "gallbladder": ("gallbladder", "gall bladder", "biliary"),
    "spleen": ("spleen", "splenic"),
    "pancreas": ("pancrea*",),
    "brain": ("brain", "cerebral", "cerebell*", "intracranial", "frontal lobe", "parietal", "temporal lobe",
              "occipital"),
    "spine": ("spine", "spinal", "vertebra*", "disc", "lumbar", "cervical", "thoracic spine"),
    "bone": ("bone*", "rib*", "femur", "femoral", "humer*", "radius", "wrist", "ankle", "hip", "pelvi*",
             "clavicle", "collarbone", "shoulder", "knee", "skull", "joint*"),
    "adrenal": ("adrenal*",),
    "thyroid": ("thyroid",),
    "bowel": ("bowel", "colon", "intestin*", "sigmoid", "appendix", "caecum", "cecum", "rectum"),
    "bladder": ("bladder", "urinary"),
    "stomach": ("stomach", "gastric", "pylor*", "duoden*"),
    "testis": ("testi*", "testes", "scrot*", "epididym*"),
    "pituitary": ("pituitary",),
    "sinus": ("sinus*", "maxillary", "nasal"),
    "ovary": ("ovar*",),
    "uterus": ("uter*", "womb", "endometri*"),
    "aorta": ("aort*",),
    "vessel": ("arter*", "vein*", "venous", "vessel*", "iliac", "carotid", "jugular", "popliteal"),
    "breast": ("breast*",),
    "prostate": ("prostat*",),
}

# Named bones: a fracture "also in the ulna" is a second finding, though the concept is the same.
BONES: dict[str, tuple[str, ...]] = {
    "radius": ("radius", "radial"), "ulna": ("ulna", "ulnar"), "scaphoid": ("scaphoid",),
    "humerus": ("humer*",), "clavicle": ("clavic*", "collarbone", "collar bone"), "scapula": ("scapul*", "shoulder blade"),
    "rib": ("rib", "ribs"), "femur": ("femur", "femoral neck", "thigh bone", "thighbone"), "tibia": ("tibia", "tibial", "shin bone", "shinbone"),
    "fibula": ("fibula", "fibular"), "patella": ("patella*", "kneecap*"), "skull": ("skull", "cranium"),
    "sternum": ("sternum", "sternal", "breastbone"), "pelvis": ("pelvis", "pelvic bone*"),
    "pubic ramus": ("pubic ram*", "pubic bone*", "pubis"), "sacrum": ("sacrum", "sacral", "tailbone"),
    "calcaneus": ("calcane*", "heel bone*"), "talus": ("talus", "talar"),
}


@lru_cache(maxsize=1)
def bone_patterns() -> list[tuple[str, re.Pattern[str]]]:
    return _compile(BONES)


# Side words; "both"/"bilateral" mean left and right. Checked on word boundaries.
SIDES: dict[str, frozenset[str]] = {
    "left": frozenset({"left"}), "right": frozenset({"right"}),
    "bilateral": frozenset({"left", "right"}), "bilaterally": frozenset({"left", "right"}),
    "bilat": frozenset({"left", "right"}),
    "bibasal": frozenset({"left", "right"}), "bibasilar": frozenset({"left", "right"}),
    "symmetric": frozenset({"left", "right"}), "symmetrical": frozenset({"left", "right"}),
    "symmetrically": frozenset({"left", "right"}),
    "both": frozenset({"left", "right"}), "each": frozenset({"left", "right"}),
    "either": frozenset({"left", "right"}),
}

# Filler words may be separated by brackets too: "bones in your lower back (L1) have been squashed".
# "or" ends a phrase: in "no loose fluid or air in the belly" the fluid is not "fluid ... in the belly".
_GAP = r"(?:[\s,'()-]+(?!(?:or|nor)\b)[\w'-]+){0,5}?[\s,'()-]+"
_LONG_GAP = r"(?:[\s,'()-]+(?!(?:or|nor)\b)[\w'-]+){0,10}?[\s,'()-]+"
# A side word may sit inside a lay phrase: "fluid around the (left) lung".
_JOIN = r"\s+(?:(?:left|right|both)\s+)?"
_SIDE_WORD = r"(?:(?:left|right|both)\s+)?"  # "fluid at the top of the (right) lung": a side is no filler


def _tokens(form: str) -> list[str]:
    """Split a form on spaces outside brackets: "(pieces|bone ends) ~ moved" has three tokens."""
    tokens, depth, current = [], 0, ""
    for ch in form:
        depth += (ch == "(") - (ch == ")")
        if ch.isspace() and depth == 0:
            if current:
                tokens.append(current)
            current = ""
        else:
            current += ch
    return tokens + ([current] if current else [])


def _form_to_regex(form: str) -> str:
    """`fluid ~ lung*` -> a regex allowing filler words at `~` and any ending at `*`."""
    parts = []
    for token in _tokens(form):
        if token in ("~", "~~"):
            parts.append(token)
            continue
        stem = token.rstrip("*")
        if any(ch in stem for ch in "()?|"):  # a group of alternatives: spaces and `word*` inside it too
            body = re.sub(r"(?<=[\w)])\*", r"[\\w-]*", stem).replace(" ", r"\s+")
        else:
            body = re.escape(stem).replace(r"\-", "-").replace(r"\ ", r"\s+")
        parts.append(body + (r"[\w-]*" if token.endswith("*") else ""))
    out = ""
    for i, part in enumerate(parts):
        if part in ("~", "~~"):
            continue
        if i > 0:
            prev = parts[i - 1]
            out += _GAP + _SIDE_WORD if prev == "~" else _LONG_GAP + _SIDE_WORD if prev == "~~" else _JOIN
        out += part
    return r"(?<![\w-])" + out + r"(?![\w])"


@dataclass(frozen=True)
class Mention:
    """A concept found in text: which concept, where (character span), and the matched words."""

    concept: str
    start: int
    end: int
    surface: str


def _compile(table: dict[str, tuple[str, ...]]) -> list[tuple[str, re.Pattern[str]]]:
    # Longest forms first: regex alternation takes the first alternative that matches.
    return [(concept, re.compile("|".join(_form_to_regex(f) for f in sorted(forms, key=len, reverse=True)),
                                 re.IGNORECASE))
            for concept, forms in table.items()]


@lru_cache(maxsize=1)
def finding_patterns() -> list[tuple[str, re.Pattern[str]]]:
    return _compile(FINDINGS)


@lru_cache(maxsize=1)
def anatomy_patterns() -> list[tuple[str, re.Pattern[str]]]:
    return _compile(ANATOMY)


# Concepts that are often embedded inside a more specific one; the specific one wins.
_SPECIFIC_OVER_GENERIC = {"thyroid nodule": "nodule", "pericardial effusion": "pleural effusion",
                          "effusion (joint)": "pleural effusion", "ground-glass": "opacity"}


# Umbrella concepts that give way to any overlapping specific one: in "heart looks bigger than it
# should" the finding is cardiomegaly, whatever the longer "bigger than it should" matched.
_YIELDING = frozenset({"dilatation", "thickening", "opacity"})


def find_mentions(text: str, patterns: list[tuple[str, re.Pattern[str]]]) -> list[Mention]:
    """All non-overlapping concept mentions, longest match first so "kidney stone" beats "stone"."""
    found: list[Mention] = []
    for concept, pattern in patterns:
        for m in pattern.finditer(text):
            inside = m.group(0).split(")")[0] if m.group(0).count(")") > m.group(0).count("(") else ""
            if len(inside.split()) > 3:
                continue  # "(the bag under the liver that stores bile) is swollen": a word inside a gloss is no subject
            found.append(Mention(concept, m.start(), m.end(), m.group(0)))
    found.sort(key=lambda m: (m.concept in _YIELDING, -(m.end - m.start), m.start))
    taken: list[Mention] = []
    for m in found:
        if any(m.start < t.end and t.start < m.end for t in taken):
            continue
        taken.append(m)
    return sorted(taken, key=lambda m: m.start)


# "That is a good spot" for a tube's tip, "the spot where the gland sits": a place, not a lesion.
_GOOD_PLACE_RE = re.compile(r"\b(?:good|right|ideal|correct|safe|perfect|best)\s+$", re.IGNORECASE)


def find_findings(text: str) -> list[Mention]:
    return [m for m in find_mentions(text, finding_patterns())
            if not (m.surface.lower() == "spot" and (_GOOD_PLACE_RE.search(text[max(0, m.start - 10):m.start])
                                                     or re.match(r"\s+where\b", text[m.end:])))]


def find_anatomy(text: str) -> list[Mention]:
    return find_mentions(text, anatomy_patterns())


_SIDE_RE = re.compile(r"(?<![\w-])(left|right|bilateral(?:ly)?|bilat|bibasal|bibasilar|symmetric(?:al|ally)?|both|each|either)(?:wards?)?(?![\w])"
                      r"(?!-(?!sided))", re.IGNORECASE)
# Report shorthand: "R hip", "L kidney", "R L5 nerve root" (capital letter alone before a word;
# not "L5", and not a litre after a number).
# "RUQ", "LLL", "RML": quadrants and lobes written as letters.
_REGION_ABBREVIATION_RE = re.compile(r"(?<![\w-])(R|L)(?:UQ|LQ|UL|LL|ML|UE|LE|IF|IJ|ICA|CCA|PE)s?(?![\w-])")
_SIDE_ABBREVIATION_RE = re.compile(r"(?<![\w.-])(?<!\d )(R|L)(?=\s+(?:[a-z]|L\d|S\d|[A-Z]{2,}))|(?<=\bthe )(R|L)(?=[\s.,;:)]|$)")
# Terms that carry their side in a prefix: "levoscoliosis" is a curve to the left.
_PREFIX_SIDE_RE = re.compile(r"(?<![\w-])(levo|dextro)-?(?:scoliosis|rotoscoliosis|curvature|convex(?:ity)?|cardia|position)\b",
                             re.IGNORECASE)
# Everyday idioms that use "right" and "left" without naming a side of the body: "blood flows
# the right way", "the right size", "all right", "180 ml is left behind", "what is left over".
_RIGHT_IDIOM_BEFORE_RE = re.compile(r"(?:\b(?:all|just|exactly|about|the|in the|at the)\s+)$", re.IGNORECASE)
_RIGHT_IDIOM_NOUN_RE = re.compile(
    r"\s+(?:way|direction|amount|size|shape|place|position|level|spot|track|time|kind|sort|thing|"
    r"answer|choice|treatment|care|balance|length|thickness|volume|range)\b", re.IGNORECASE)
_LEFT_VERB_BEFORE_RE = re.compile(r"\b(?:is|are|was|were|be|been|being|gets?|got|still|nothing|some|any|what|that)\s+$",
                                  re.IGNORECASE)


def _idiom(word: str, text: str, start: int, end: int) -> bool:
    """Whether a "right"/"left" is an everyday idiom rather than a side."""
    before, after = text[max(0, start - 12):start], text[end:end + 16]
    if word == "right":
        if re.match(r"\s+(now|away|after|here|there|where|next to|beside|before|behind|in front|on top|through|on (?:track|time|target|schedule)|around|for (?:your|the|his|her) (?:dates?|age)|"
                    r"up to|into|in line|(?:in|on|at|inside|by) (?:its|their|his|her|the middle|the centre|the center))\b",
                    after, re.IGNORECASE):
            return True
        if re.search(r"\b(?:just|exactly|about)\s+$", before, re.IGNORECASE) and re.match(r"\s*(?:[.,;:!)]|$|\s+(?:for|and|but)\b)", after):
            return True  # "growth is just right for this stage"; not "just right of the midline"
        if re.search(r"\ball\s+$", before, re.IGNORECASE) or (
                _RIGHT_IDIOM_BEFORE_RE.search(before) and _RIGHT_IDIOM_NOUN_RE.match(after)):
            return True
    if word == "left":
        if re.search(r"\b(?:has|have|had)\s+$", before, re.IGNORECASE) and re.match(
                r"\s+(?:behind|over|a|an|the|some|no|its|his|her|their|them|it|you|bruis\w*|marks?|scars?)\b", after, re.IGNORECASE):
            return True  # "that has left bruises", not "she has left shoulder pain"
        if re.match(r"\s*(over|behind|in place|alone|untreated|unchanged|inside|after)\b", after, re.IGNORECASE):
            return True
        if _LEFT_VERB_BEFORE_RE.search(before) and not re.match(
                r"(?:-|\s+(?:side|sided|lung|kidney|lobe|breast|leg|arm|hand|foot|knee|hip|eye|ear|ovary|testis)\b)",
                after, re.IGNORECASE):
            return True
    return False


def find_sides(text: str) -> list[tuple[int, frozenset[str]]]:
    """Side words with their positions; "both" only counts when it refers to body sides."""
    out = []
    for m in _SIDE_RE.finditer(text):
        word = m.group(1).lower()
        if word in ("both", "each", "either"):
            after = text[m.end():m.end() + 50].lower()
            if not re.match(r"\s+(?:(?:the|of|your|[a-z]+al|common|internal|external|main|upper|lower)\s+){0,2}?"
                            r"(sides?|lungs?|kidneys?|ovar\w*|breasts?|hips?|knees?|lobes?|adrenals?|bases|apices|"
                            r"hemithoraces|eyes?|ears?|legs?|arms?|arter(?:y|ies)|carotids?|veins?|testicles?|testes|feet|"
                            r"hands?|shoulders?|wrists?|ankles?|elbows?|ureters?|thighs?|calf|calves|tonsils?)\b", after):
                continue
        if word in ("right", "left") and _idiom(word, text, m.start(), m.end()):
            continue
        out.append((m.start(), SIDES[word]))
    for m in _PREFIX_SIDE_RE.finditer(text):
        out.append((m.start(), SIDES["left" if m.group(1).lower() == "levo" else "right"]))
    for pattern in (_SIDE_ABBREVIATION_RE, _REGION_ABBREVIATION_RE):
        for m in pattern.finditer(text):
            letter = next(g for g in m.groups() if g)
            out.append((m.start(), SIDES["right" if letter == "R" else "left"]))
    return sorted(out, key=lambda item: item[0])

# How bad a finding is, in report and lay words: compared per side, so that "severe arthritis on
# the left, mild on the right" swapped is caught though both hips keep their finding.
SEVERITY: dict[str, tuple[str, ...]] = {
    "mild": ("mild", "mildly", "slight", "slightly", "minor", "minimal", "a little", "a bit", "early", "small amount"),
    "moderate": ("moderate", "moderately", "medium"),
    "severe": ("severe", "severely", "marked", "markedly", "advanced", "extensive", "bad", "serious", "a lot of",
               "very", "significant"),
}
_SEVERITY_RE = [(grade, re.compile(r"(?<![\w-])(?:" + "|".join(words) + r")(?![\w-])", re.IGNORECASE))
                for grade, words in SEVERITY.items()]


def find_severities(text: str) -> set[str]:
    """Severity grades named in a text ("marked" and "bad" are both severe)."""
    return {grade for grade, pattern in _SEVERITY_RE if pattern.search(text)}


# Concepts a lay rewrite may legitimately substitute for each other ("mass" -> "lump",
# "opacity" -> "area of infection"); the checker pairs them before calling anything dropped.
RELATED: tuple[frozenset[str], ...] = (
    frozenset({"nodule", "mass", "lesion", "thyroid nodule", "polyp", "adenoma", "hemangioma"}),
    frozenset({"consolidation", "opacity", "ground-glass", "atelectasis"}),
    frozenset({"lesion", "cyst", "hemangioma", "abscess", "metastasis"}),
    frozenset({"stone", "calcification"}),
    frozenset({"calcification", "plaque"}),  # calcium in an artery wall is a sign of its hardening
    frozenset({"cirrhosis", "fibrosis"}),
    frozenset({"hydronephrosis", "dilatation", "obstruction"}),
    frozenset({"cholecystitis", "gallbladder wall thickening", "thickening"}),
    frozenset({"edema", "pleural effusion", "free fluid", "ascites"}),
    frozenset({"herniation", "degeneration", "stenosis"}),
    frozenset({"emphysema", "hyperinflation"}),
    frozenset({"white matter changes", "degeneration"}),
    frozenset({"sinusitis", "thickening"}),
    frozenset({"diverticulosis", "diverticulitis"}),
    frozenset({"diverticulitis", "consolidation"}),  # "no sign of infection in the pouches"
    frozenset({"fibroid", "mass", "lesion"}),
    frozenset({"fibroadenoma", "mass", "nodule", "lesion"}),
    frozenset({"dilatation", "edema", "hydronephrosis"}),
    frozenset({"pleural effusion", "effusion (joint)", "pericardial effusion"}),
    frozenset({"herniation", "nerve compression"}),
    frozenset({"consolidation", "aspiration"}),
    frozenset({"fat stranding", "appendicitis", "edema"}),
    frozenset({"mass", "cancer"}),
    frozenset({"cancer", "metastasis"}),
    frozenset({"adhesions", "fibrosis", "obstruction"}),
    frozenset({"displacement", "dislocation"}),
    frozenset({"tear", "rupture"}),
    frozenset({"stenosis", "obstruction"}),
    frozenset({"endplate change", "degeneration"}),
    frozenset({"haemothorax", "haemorrhage", "pleural effusion"}),
    frozenset({"lesion", "opacity"}),
    frozenset({"perforation", "pneumoperitoneum"}),
    frozenset({"perforation", "rupture"}),
    frozenset({"nodule", "opacity"}),
    # what fills a vessel or duct, each on its own: a stone is still no clot
    *(frozenset({"filling defect", other}) for other in ("embolism", "lesion", "stone", "polyp", "mass", "obstruction")),
    frozenset({"granuloma", "nodule", "calcification", "fibrosis"}),
    frozenset({"spur", "degeneration"}),
    frozenset({"disc desiccation", "degeneration"}),  # a dried-out disc is told as wear and tear
    frozenset({"spondylolisthesis", "degeneration"}),  # "degenerative spondylolisthesis"
    frozenset({"air-fluid level", "sinusitis"}),
    frozenset({"air-fluid level", "obstruction", "dilatation"}),
    frozenset({"avascular necrosis", "infarct"}),
    frozenset({"cardiomegaly", "dilatation"}),
    frozenset({"splenomegaly", "dilatation"}),
    frozenset({"hepatomegaly", "dilatation"}),
)


# Words that state a finding's absence on their own: "ACL intact" = no tear; "vein patent" = no clot.
ABSENCE_FORMS: dict[str, tuple[str, ...]] = {
    # "intact" says no break of a bone, no tear of a soft-tissue structure; alone it says neither.
    "tear": (r"(?:ligaments?|tendons?|cuff|menisc\w*|labrum|acl|pcl|mcl|lcl|muscles?|cartilage|retinaculum)\W+"
             r"(?:[\w']+\W+){0,3}?intact",),
    "fracture": (r"(?:bones?|ulna|radius|femur|tibia|fibula|humerus|clavicle|scapula|ribs?|skull|vertebra\w*|cortex|"
                 r"cortical|pelvis|sternum|patella|metacarpals?|metatarsals?|phalang\w*|carpals?|scaphoid)\W+"
                 r"(?:[\w']+\W+){0,3}?intact",),
    # "patent" says no clot only of a vessel ("ostiomeatal units patent" is about drainage).
    "embolism": (r"(?:veins?|arter(?:y|ies)|vessels?|vasculature|aorta|grafts?|stents?|sinuses? venous|venous sinus\w*|"
                 r"\b(?:C?FV|SFV|CFA|SFA|GSV|SSV|IJV|PV|SVC|IVC)s?)"
                 r"\W+(?:[\w']+\W+){0,4}?patent", r"patent (?:\w+ ){0,2}(?:veins?|arter(?:y|ies)|vessels?)",
                 "compressible", r"(?:squash|squeez|press|compress)\w* (?:flat|closed|normally|fully|completely)",
                 r"(?:veins?|arter(?:y|ies)|vessels?)\W+(?:[\w'()]+\W+){0,10}?(?:open|unblocked|clear of clots?|clear)\b"),
    # Positive wording of "not displaced" / "not dislocated", told apart by what is lined up.
    "displacement": (r"(?:pieces|fragments|ends|bones?)\W+(?:[\w']+\W+){0,4}?(?:lined up|in (?:line|place|alignment|"
                     r"(?:its|their|a|the) (?:normal|usual|correct|good) position)|(?:well|normally) aligned|"
                     r"(?:stayed|remain\w*|still) (?:in (?:place|line|(?:\w+ )?position)|lined up))",),
    "dislocation": (r"(?:joints?|mortise)\W+(?:[\w']+\W+){0,8}?(?:(?:lined|lines?|lining) up|in (?:line|place|alignment|"
                    r"(?:its|their|a|the) (?:normal|usual|correct|good) position)|(?:well|normally) aligned|congruent)",
                    r"congruent"),
    # "Antegrade flow" / "the blood flows the normal way": the direction is normal.
    "reversed flow": ("antegrade flow", r"flow\w*\W+(?:[\w']+\W+){0,4}?(?:the (?:right|normal|correct|usual) "
                      r"(?:way|direction)|in the (?:right|normal|correct|usual) direction|forwards?)"),
    # "Placenta clear of the internal os": it lies away from the opening of the womb.
    "placenta praevia": (r"clear of (?:the )?(?:internal )?(?:cervical )?os", r"(?:well )?away from (?:the )?(?:cervix|internal os|"
                         r"opening of (?:the|your) (?:neck of the )?(?:womb|cervix))"),
    "hydrocephalus": (r"(?:fluid(?:-filled)? (?:spaces|chambers|cavities)|ventricles)\W+(?:[\w']+\W+){0,9}?"
                      r"(?:normal(?:[ -]sized?| in size)?|not (?:enlarged|widened|swollen|dilated))",
                      r"normal[ -]sized? (?:fluid(?:-filled)? (?:spaces|chambers|cavities)|ventricles)"),
}


# "Lymph nodes look normal in size", "normal-sized lymph nodes": an organ-specific
# enlargement stated as absent without a negation trigger.
_ENLARGEMENT_OF = {"lymphadenopathy": r"lymph (?:nodes?|glands?)|glands"}
for _concept, _organ in _ENLARGEMENT_OF.items():
    ABSENCE_FORMS[_concept] = ABSENCE_FORMS.get(_concept, ()) + (
        rf"(?:{_organ})\W+(?:[\w']+\W+){{0,5}}?(?:a |of )?normal(?:[ -]sized?| in size| size)",
        rf"(?:{_organ}) size\W+(?:[\w']+\W+){{0,2}}?(?:normal|within normal limits)", rf"normal[ -]sized? (?:{_organ})")
# "The glands in the middle of your chest look normal": lymph nodes said to look normal are not
# enlarged. The glands on top of the kidneys or in the neck (adrenal, thyroid) are other organs.
ABSENCE_FORMS["lymphadenopathy"] += (
    r"(?<!adrenal )(?<!thyroid )(?<!salivary )(?<!parathyroid )(?:lymph (?:nodes?|glands?)|glands)\W+"
    r"(?:(?!on top\b|of the neck\b)[\w']+\W+){0,12}?(?:look|looks|looked|are|were|appear|appears|appeared|seem|seems) "
    r"(?:normal|fine|healthy)\b",)

# Umbrella words a report pairs with a specific diagnosis in one sentence ("echogenic lesion,
# likely haemangioma"); a rewrite that keeps the diagnosis has not dropped the umbrella word.
GENERIC: frozenset[str] = frozenset({"lesion", "opacity", "dilatation", "thickening", "enhancement", "air-fluid level", "spur", "filling defect"})


def related(a: str, b: str) -> bool:
    return a == b or any(a in group and b in group for group in RELATED)
