from __future__ import annotations

import socket

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tools.reports.checker import check_rewrite

ORIGINAL = ("FINDINGS: Small left pleural effusion. No pneumothorax. A 5 mm nodule in the right upper lobe "
            "is stable since the prior CT. IMPRESSION: Recommend follow-up CT in 12 months.")
FAITHFUL = ("There is no collapsed lung. There is a small amount of fluid around the left lung. "
            "A 0.5 cm spot in the top part of the right lung has not changed since your last CT scan. "
            "Your doctor suggests another CT scan in 12 months.")


def types(original: str, rewrite: str) -> list[str]:
    return sorted(f.type for f in check_rewrite(original, rewrite, target_grade=12).flags)


def test_faithful_rewrite_with_unit_conversion_and_reordering_is_clean() -> None:
    assert types(ORIGINAL, FAITHFUL) == []


@pytest.mark.parametrize("old,new,expected", [
    ("left lung", "right lung", "laterality"),
    ("There is no collapsed lung", "There is a collapsed lung", "negation"),
    ("0.5 cm", "5 cm", "measurement"),
    ("There is a small amount of fluid around the left lung. ", "", "omission"),
    ("Your doctor suggests", "There is also a small kidney stone. Your doctor suggests", "addition"),
])
def test_each_inserted_error_is_flagged_with_its_type(old: str, new: str, expected: str) -> None:
    assert old in FAITHFUL
    assert expected in types(ORIGINAL, FAITHFUL.replace(old, new))


def test_dropped_recommendation_and_comparison_are_omissions() -> None:
    rewrite = FAITHFUL.replace(" has not changed since your last CT scan", "").replace(
        " Your doctor suggests another CT scan in 12 months.", "")
    flags = check_rewrite(ORIGINAL, rewrite, target_grade=12).flags
    details = " ".join(f.detail for f in flags if f.type == "omission")
    assert "recommendation" in details and "comparison" in details


def test_uncertainty_dropped_is_flagged() -> None:
    flags = check_rewrite("Possible small left pneumothorax.", "There is a small collapsed lung on the left.").flags
    assert [f.type for f in flags if f.type != "readability"] == ["negation"]


def test_lay_synonym_table_covers_the_common_findings() -> None:
    pairs = [("Cardiomegaly.", "The heart is enlarged."), ("Right renal calculus.", "There is a stone in the right kidney."),
             ("Left basal atelectasis.", "The bottom of the left lung is partly collapsed."),
             ("Right lower lobe consolidation.", "An area of the right lung is filled with fluid or infection.")]
    for original, rewrite in pairs:
        assert types(original, rewrite) == [], (original, rewrite)


def test_readability_flag_above_target() -> None:
    result = check_rewrite("No pneumothorax.", "Pneumothorax is radiographically unidentifiable notwithstanding "
                                               "comprehensive cardiopulmonary evaluation.", target_grade=7)
    assert "readability" in [f.type for f in result.flags] and result.grade > 7


def test_readability_needs_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    from tools.reports.readability import flesch_kincaid_grade

    easy = flesch_kincaid_grade("The heart is normal in size. The lungs are clear.")
    hard = flesch_kincaid_grade("Cardiomediastinal silhouette demonstrates unremarkable configuration "
                                "notwithstanding suboptimal inspiratory radiographic technique.")
    assert 0 <= easy < 5 < 12 < hard


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400), st.text(max_size=400))
def test_never_crashes_on_random_text(original: str, rewrite: str) -> None:
    result = check_rewrite(original, rewrite, use_embeddings=False)
    assert result.grade >= 0


@pytest.mark.parametrize("text", ["", "   ", "<html><body><p>No <b>pneumothorax</b></p></body></html>",
                                  "{\\rtf1\\ansi No effusion.}", "5" * 10000, "left " * 3000, "\x00\ufeff\u202e"])
def test_odd_inputs_do_not_crash(text: str) -> None:
    check_rewrite(text, text[::-1], use_embeddings=False)
    check_rewrite(ORIGINAL, text, use_embeddings=False)


@pytest.mark.parametrize("original,rewrite", [
    ("Cardiac silhouette is mildly enlarged.", "Your heart looks a bit bigger than it should."),
    ("Small bowel obstruction, likely due to adhesions.", "The small bowel is blocked, probably by bands of scar tissue."),
    ("Compression fracture of L2.", "One of the bones in your back (L2) has been squashed."),
    ("No pneumothorax.", "Your lung hasn't collapsed."),
    ("No free air.", "No air has leaked out of the bowel."),
    ("Undisplaced fracture of the right fibula.", "The right fibula is broken but the pieces are still lined up."),
])
def test_lay_phrasings_of_common_findings_are_recognised(original: str, rewrite: str) -> None:
    assert types(original, rewrite) == [], (original, rewrite)


def test_negation_of_how_the_scan_was_done_does_not_reach_the_finding() -> None:
    original = "CT abdomen without contrast shows a 4 mm nodule in the right kidney."
    assert types(original, "The scan, done without dye, shows a 4 mm spot in the right kidney.") == []
    assert "negation" in types(original, "The scan, done without dye, shows no spot in the right kidney.")


def test_negation_stops_at_a_new_clause() -> None:
    original = "No pleural effusion. The heart is enlarged."
    assert types(original, "There is no fluid around the lungs and the heart is enlarged.") == []


@pytest.mark.parametrize("rewrite,faithful", [
    ("A spot of about seven millimetres.", True), ("A spot of 0.7 cm.", True), ("A spot of 7 cm.", False),
    ("A spot of seventeen millimetres.", False), ("A spot of one and a half centimetres.", False),
])
def test_number_words_and_unit_conversions(rewrite: str, faithful: bool) -> None:
    flagged = "measurement" in types("7 mm nodule.", rewrite)
    assert flagged is not faithful


def test_lay_hedges_keep_uncertainty() -> None:
    original = "Possible early appendicitis."
    assert [t for t in types(original, "One possibility is an early inflamed appendix.") if t != "readability"] == []
    assert "negation" in types(original, "You have an inflamed appendix.")


def test_fallback_calibration_picks_the_lowest_threshold_that_hides_no_labelled_error() -> None:
    from tools.reports.fallback_calibration import calibrate

    rows = [(True, 0.9), (True, 0.7), (True, 0.5), (False, 0.62), (False, 0.3)]
    result = calibrate(rows)
    assert result.threshold == 0.63 and result.false_match_rate == 0.0
    assert abs(result.paraphrase_recall - 2 / 3) < 1e-9
    assert calibrate(rows, max_false_match=0.5).threshold <= 0.51


def fidelity(original: str, rewrite: str, embeddings: bool = False) -> set[str]:
    flags = check_rewrite(original, rewrite, target_grade=99, use_embeddings=embeddings).flags
    return {f.type for f in flags} - {"readability", "warning"}


@pytest.mark.parametrize("original,rewrite", [
    # fluid *in* the lungs is oedema; fluid *around* them an effusion; "each lung" is both sides
    ("Mild pulmonary oedema. Small bilateral pleural effusions.",
     "There is some extra fluid in the lungs. A little fluid has collected around each lung."),
    # one noun phrase under one "no"
    ("No focal consolidation.", "No patch of infection in the lungs."),
    # "normal" inside the phrase states the finding is absent; "than normal" does not
    ("Gallstones without gallbladder wall thickening.", "There are gallstones, but the gallbladder wall is a normal thickness."),
    ("Mild cartilage thinning.", "The cartilage at the inner side of the joint is a little thinner than normal."),
    # a lay phrase with its own "not" is no negation
    ("Moderate left hydronephrosis.", "The left kidney is swollen because urine is not draining well."),
    ("Ventricles are normal in size.", "The fluid spaces in the middle of the brain are a normal size."),
    ("No midline shift.", "There is no shift of the brain."),
    ("Disc herniation compressing the left S1 nerve root.", "A slipped disc is squeezing the left S1 nerve."),
    ("The femoral veins are patent.", "The veins in the thigh are open."),
    ("Appendicitis with surrounding fat stranding.", "Your appendix is inflamed, with irritation of the fatty tissue around it."),
    # a comparative beside its finding describes it; "Next step:" is a recommendation
    ("Hyperinflated lungs. RECOMMENDATION: CT chest.",
     "The lungs are bigger than normal because of trapped air. Next step: a CT scan of the chest."),
    # a hedged restatement or a mention in advice softens a stated finding; it does not flip it
    ("Lipid-rich adrenal adenoma.", "It is most likely a harmless growth called an adenoma."),
    ("Small gallstones.", "There are small stones in your gallbladder. Your doctor may talk to you about the gallstones."),
    # everyday "right"/"left" and "-ward" sides
    ("Portal vein patent with normal flow.", "The main vein to the liver is open, and blood flows the right way."),
    ("Post-void residual 180 ml.", "After peeing, 180 ml is left behind."),
    ("Right subdural haematoma with 4 mm leftward midline shift.",
     "There is bleeding on the right side. It pushes the middle of the brain 4 mm towards the left."),
    # a denial the report did not spell out adds no finding
    ("7 mm pituitary microadenoma.", "A 7 mm growth (microadenoma). This kind of growth is usually not cancer."),
    # a kept measurement anchors a finding told in words the lexicon does not know
    ("Complete rupture of the right Achilles tendon 5 cm above its insertion.",
     "Your right Achilles tendon has snapped all the way through, about 5 cm above the heel."),
    ("Bladder wall thickened to 6 mm.", "Thick bladder wall: 6 mm."),
    # the report's own word kept in a new phrase
    ("Pancreatitis with peripancreatic fat stranding.",
     "Your pancreas is inflamed. This means the organ is irritated, and the fatty tissue around it shows it too."),
    # a denial the rewrite words its own way, beside the finding its report sentence kept
    ("Sigmoid diverticulosis without evidence of diverticulitis.",
     "There are small pouches in the wall of the colon (diverticulosis). There is no sign that they are inflamed."),
    # a term explained in brackets is no new finding; "none of" denies the whole clause
    ("No axillary lymphadenopathy.", "There are no enlarged lymph nodes (small infection-fighting glands)."),
    ("No enhancement of the lesions.", "None of the spots lit up with the dye."),
    # report shorthand for sides, and "intact" of a bone
    ("Soft tissue lump, R upper back. Lipoma.", "The lump on the right side of your upper back is a lipoma."),
    ("Scaphoid fracture. Distal radius and ulna are intact.",
     "There is a crack in the scaphoid. The two forearm bones are not broken."),
    # a side named in another clause of the sentence is not this finding's side
    ("Left ventricle normal. No right heart strain.", "The right chamber is compared with the left one, and there is no strain on the right side "
                               "of your heart."),
    # why the scan was done is no finding; "RUQ" names a side; "is negative" denies a sign
    ("LEFT LEG VENOUS DUPLEX: Thrombus in the left popliteal vein.",
     "This scan checked the veins in both legs for blood clots. There is a clot in the vein behind the left knee."),
    ("Surgical clips in the RUQ.", "There are metal clips in the upper right part of your belly."),
    ("Sonographic Murphy's sign is negative.", "Pressing on the gallbladder with the probe did not cause pain."),
    # one describing word about an organ the report discusses is no new finding
    ("Left varicocele.", "This means the veins in the scrotum on the left are swollen, like varicose veins."),
    ("Gallbladder wall is 2 mm, not thickened.", "The gallbladder wall measures 2 mm and is not thickened."),
    # "or" ends a lay phrase; a side inside one is no filler
    ("No free fluid or free gas.", "There is no loose fluid or air in the belly."),
    ("Right apical pneumothorax has resolved.", "The pocket of air at the top of the right lung is now gone."),
    # a denial after a comma is about its own subject
    ("Moderate left hydronephrosis, cause not identified.",
     "Your left kidney is moderately swollen with urine. The cause was not found."),
    # an umbrella denial told as a denial of a related finding
    ("Prostate lesion on the left. No suspicious bone lesion.",
     "There is a spot (lesion) on the left of the prostate. There are no worrying spots in the bones."),
    # a side right after its finding wins over one across "and"; what a repeat scan is to check is no finding
    ("The ostiomeatal unit is patent on the left and obstructed on the right.",
     "The drainage pathway is open on the left side but blocked on the right side."),
    ("Right ovarian cyst, 3.5 cm. Repeat ultrasound in 6 weeks to confirm resolution.",
     "Your right ovary has a 3.5 cm cyst. A repeat ultrasound in 6 weeks is suggested to make sure the cyst has gone away."),
    # a plain "fine" or "all right" restates the denial that names the same structures
    ("Fracture of the 5th metacarpal. Remaining bones intact.",
     "The bone leading to your little finger is broken. All the other bones in your hand are fine."),
    ("Tear of the medial meniscus. Lateral meniscus, ACL and PCL are intact.",
     "The inner cushion of the knee has a tear. The tear reaches its underside. "
     "The outer cushion (lateral meniscus) and the two main ligaments (ACL and PCL) are all right."),
    # advice about a finding does not deny it
    ("Small left epididymal cyst. Benign; no follow-up required for the cyst.",
     "There is a small cyst behind the left testicle. It is harmless and needs no follow-up."),
    # a side that only places a spot within one organ is not a side the report left out
    ("1.4 cm haemangioma in hepatic segment 7.", "A 1.4 cm harmless tangle of blood vessels in the back right part of the liver."),
    # gestational age, "20+3 weeks" and "subcentimetre"
    ("Estimated gestational age 20 weeks 1 day.", "This matches a pregnancy of 20 weeks and 1 day."),
    ("ANATOMY SCAN, 20+3 WEEKS. Two subcentimeter cysts in the liver.",
     "Your scan at 20 weeks and 3 days. There are two liver cysts, each smaller than 1 cm."),
    # what is not known is the cause, not the finding
    ("Moderate left hydronephrosis of uncertain cause. The right kidney is normal without hydronephrosis.",
     "Your left kidney is swollen with urine. Your right kidney has no swelling. "
     "It is not clear right now what is causing the swelling of the left kidney."),
    # lay forms of normal flow, compressible veins and a placenta away from the cervix
    ("Vertebral arteries show antegrade flow bilaterally.",
     "Both arteries at the back of the neck have blood flowing in the normal direction."),
    ("Common femoral vein is compressible. Thrombus in the left popliteal vein.",
     "The big vein in the groin squashes flat normally. There is a clot in the vein behind the left knee."),
    ("Placenta posterior fundal, clear of the internal os.",
     "The placenta is at the back of the womb. It is not covering the opening of the cervix."),
    # the reason for the scan under its own heading is no finding
    ("INDICATION:\nRight neck swelling and fever.\nFINDINGS: Right peritonsillar abscess.",
     "Why you had this scan: a fever. There is a pocket of pus next to your right tonsil."),
    # "no spots that light up" denies the lighting up; a kept measurement restates a finding
    ("No suspicious arterially enhancing lesion.", "No worrying spots that light up early with the dye."),
    ("The bile duct has a 6 mm filling defect, likely a stone. No focal liver lesion.",
     "There is a 6 mm object inside the bile duct. It is most likely a gallstone. There are no spots in the liver."),
    # a spot that only says where a wall is thicker is no new spot
    ("The ureters have no filling defect. Focal bladder wall thickening of 1.2 cm.",
     "Nothing was seen inside the ureters. One spot on the bladder wall is thicker than normal, about 1.2 cm."),
    # a sentence that defines the finding before it explains it
    ("Findings consistent with hypertrophic pyloric stenosis.",
     "These results fit with pyloric stenosis. This is when the muscle at the stomach outlet is too thick and blocks milk "
     "from leaving the stomach."),
    # pressing on a nerve is no Murphy's sign; "no nerves are being pressed"
    ("L4-5 extrusion compressing the left L5 nerve root. L5-S1: no nerve root compression.",
     "At L4-L5 the disc pushes out and presses on the left L5 nerve. At L5-S1 no nerves are being pressed. "
     "The disc pressing on the left L5 nerve fits with the pain in your leg."),
    # lay forms: hardened gallstones, loose air, a crack that has not moved
    ("Several calcified gallstones.", "There are several hardened gallstones."),
    ("Appendicitis. No free gas or drainable collection to suggest perforation.",
     "Your appendix is inflamed. There are no signs that it has burst: no loose air and no pocket of pus."),
    ("Lucency in the right pubic ramus; an undisplaced fracture cannot be excluded. CT if concern for a right ramus fracture.",
     "There is a faint line in the right pubic bone. A small crack that has not moved cannot be ruled out. "
     "If your doctor is worried about a crack in the right pelvic bone, a CT scan is recommended."),
    # a placed denial takes the sentence that restates it; the umbrella one what is left
    ("Bladder wall is smooth; no mass is seen. No urothelial lesion identified.",
     "The bladder wall looks smooth, and no growth was seen. No growth was found in the lining of your urinary system."),
    # a bracket closing the noun phrase a finding opens; examples and a scale's meaning are no findings
    ("Subacromial bursitis.", "Swelling of the fluid sac that cushions the top of the shoulder (bursitis)."),
    ("New 4 mm ground-glass nodule, likely inflammatory.",
     "A new, faint, hazy 4 mm spot. It is most likely caused by irritation (for example after an infection)."),
    ("Left peripheral zone lesion, PI-RADS 4.",
     "There is a spot on the left of the prostate, rated PI-RADS 4. (PI-RADS is a 1 to 5 scale; a 4 means a "
     "significant cancer is likely.)"),
    # an air-fluid level told inside its diagnosis; a thyroid nodule told as a nodule
    ("Mucosal thickening of the left maxillary sinus with an air-fluid level.",
     "The lining of the left cheek sinus is swollen and there is fluid in it."),
    ("Right thyroid nodule, 1.6 cm. Recommendation: fine-needle aspiration of the right thyroid nodule.",
     "Your thyroid has a 1.6 cm lump on the right. A thin needle to take a sample of cells from the nodule on your right "
     "side is recommended."),
    # what a repeat scan depends on compares nothing; "it has gone up" since a year does
    ("Probable pneumonia. Recommend repeat film only if no clinical improvement.",
     "This is probably pneumonia. Another X-ray is only needed if your child is not getting better."),
    ("PSV 160 cm/s; velocity has increased since 2022 (previously 120 cm/s).",
     "The blood moves at 160 cm/s (it was 120 cm/s in 2022, so it has gone up)."),
    # a ratio told without the word; gas that hides an organ is no finding; osteophytes inside arthritis
    ("RV/LV ratio 0.8; no right heart strain.", "The two chambers compare at 0.8, and the right side is not strained."),
    ("The pancreas is partially obscured by bowel gas.", "Part of your pancreas could not be seen well because of gas in the bowel."),
    ("Severe osteoarthritis of the left hip with joint space loss and osteophytes.",
     "There is severe wear and tear in your left hip, and the joint space is narrowed."),
    # history and age-sex shorthand are no findings or measurements; a normal structure is no shadow
    ("Hx: right lumpectomy 2020. New 8 mm mass in the left breast.",
     "You had surgery on the right breast in 2020. There is a new 8 mm lump in the left breast."),
    ("Indication: 24M, RLQ pain. Acute appendicitis.", "You have appendicitis."),
    ("Heart size normal. Normal thymic shadow.", "The heart is a normal size. The thymus looks normal."),
    # "6-week", "20w2d", "partly blocking", a flap that flipped, a back-reference to a hedged finding
    ("Satisfactory left hip replacement at 6 weeks.", "At your 6-week check-up, your new left hip looks good."),
    ("Single live intrauterine pregnancy at 20w2d.", "There is one baby, and you are 20 weeks and 2 days pregnant."),
    ("4 mm obstructing right VUJ calculus with mild right hydronephrosis.",
     "A 4 mm stone at the end of the right ureter is partly blocking the flow, so the right kidney is mildly swollen."),
    ("Medial meniscal tear with a displaced flap fragment.",
     "The inner cushion has a tear, and a loose flap of it has flipped into the middle of the knee."),
    ("1.2 cm left renal lesion, likely a simple cyst.",
     "There is a 1.2 cm spot in your left kidney that is most likely a simple cyst. The kidney cyst is a chance finding."),
    # analogies, explanations of a score and general statements name no finding of the patient
    ("Stent graft in satisfactory position with no migration.",
     "The stent graft, which works like a sleeve inside a worn garden hose, has not moved."),
    ("TR5 right thyroid nodule, 1.4 cm. FNA recommended.",
     "There is a 1.4 cm nodule on the right, and a needle test (FNA) is recommended. A high score does not mean it is "
     "definitely cancer."),
    ("No enhancing lesions.", "None of the spots lit up with the dye. A spot that lights up is like a smoke alarm going off."),
    # more lay forms
    ("No axillary lymphadenopathy.", "The glands in both armpits are not swollen."),
    ("Left hydronephrosis with perinephric fat stranding.", "The left kidney is swollen and the fat around that kidney looks a bit irritated."),
    ("Incidental 1.5 cm haemangioma in a lumbar vertebral body.",
     "A 1.5 cm harmless cluster of small blood vessels was seen in one of the bones of the lower back."),
    ("Consider referral to spinal surgery if conservative treatment fails.",
     "If rest does not help, your doctor may think about sending you to a spine surgeon."),
    ("Right hip replacement. No dislocation.", "Your right hip replacement is in place, and it is not out of joint."),
    ("4.5 x 1.2 cm Baker's cyst.", "There is a fluid-filled pouch measuring 4.5 by 1.2 cm behind the knee."),
    ("2.3 cm LR-5 observation, diagnostic of HCC.", "The 2.3 cm spot is typical of liver cancer (hepatocellular carcinoma)."),
    ("Calcified granuloma in the right mid zone.", "A small hard spot of old healed scarring, with calcium in it, is in the right lung."),
    ("Acute cholecystitis.",
     "Your gallbladder (the small bag under the liver that stores bile) is swollen and inflamed: acute cholecystitis."),
    ("Left varicocele with reversal of flow on Valsalva.",
     "On the left the veins are widened (a varicocele), and when you strained, blood flowed backward in them."),
    ("Placenta posterior fundal, clear of the internal os.",
     "The afterbirth is at the back of the womb, well away from the opening of the neck of the womb."),
    # a comparison with everyday things, a definition of a kept finding, invasion denied in the predicate
    ("The CBD is dilated to 9 mm with a distal stone.",
     "Because of a stone, the main bile duct has widened to 9 mm, like pipes swelling behind a blockage."),
    ("Acute appendicitis.", "You have acute appendicitis, which means a sudden swelling and infection of the appendix."),
    ("HCC in segment 7. No tumour in vein.", "The liver cancer has not grown into the veins."),
    ("L4-5 left paracentral disc extrusion.", "At L4-5, some of the disc's soft centre has pushed out toward the left."),
    # a denied modifier leaves its stated finding standing; clause-level and "preserved" normals
    ("3.2 cm Baker's cyst in the right popliteal fossa, intact. Ruptured Baker's cyst not seen.",
     "There is a 3.2 cm Baker's cyst behind the right knee. It has not burst."),
    ("Boxer's fracture of the fifth metacarpal. Remaining bones intact; no dislocation.",
     "The bone leading to your little finger is broken. All the other bones look fine, and nothing is out of place."),
    ("Moderate left hip osteoarthritis. Right hip joint space is preserved. Orthopaedic referral suggested.",
     "There is moderate arthritis in your left hip. Your right hip joint space looks normal (not narrowed). "
     "The radiologist suggests seeing a bone and joint specialist."),
    ("Periventricular small vessel ischaemic change, stable.",
     "There are some changes deep in the brain from reduced blood flow in tiny blood vessels. These have not changed."),
    # what the scan was for: its durations and "worse on standing" are no findings or comparisons
    ("Clinical: 6-year-old with fever 39.5 C and cough for 3 days. Right middle lobe pneumonia.",
     "Your child has pneumonia in the middle part of the right lung."),
    ("Clinical: 24M, dull ache left hemiscrotum, worse on standing. Left varicocele.",
     "There are swollen veins above the left testicle (a varicocele)."),
    ("Question of diverticulitis. Sigmoid diverticulosis without diverticulitis.",
     "The big question was whether you have diverticulitis, that's an infection of the pouches, and the scan doesn't show "
     "that. You have pouches in the bowel (diverticulosis)."),
    # spoken forms: "they're clear", "same as the day before", sizes that share a unit
    ("Main PA not enlarged. No filling defect to the subsegmental level.",
     "The main lung artery is a normal size, and the small branches of the lung arteries are clear."),
    ("Bibasilar atelectasis. Heart contour stable.",
     "Small parts at the bottom of both lungs are not fully inflated. The heart looks the same as the day before."),
    ("Right testis 4.4 x 2.6 x 3.0 cm. Left testis 4.2 x 2.5 x 2.9 cm.",
     "The right testicle is 4.4 by 2.6 by 3 centimeters and the left is 4.2 by 2.5 by 2.9."),
    # a nerve pushed out of place; cartilage wear; a side that places a spot within the liver
    ("Protrusion mildly displacing the right L5 nerve root.", "It touches the right L5 nerve and pushes it slightly out of place."),
    ("Grade 2 chondromalacia patellae.", "The smooth lining under the kneecap shows some early wear."),
    ("1.8 cm haemangioma in hepatic segment 7.",
     "In the liver there's a 1.8 centimeter spot in the back right part, segment 7, a tangle of blood vessels."),
    # more affirmations than denials, but none where the report denied it
    ("Distal radius fracture. Ulnar styloid fracture. No carpal fracture. Scaphoid intact.",
     "The radius is broken. It is broken into several pieces. There is a small crack at the tip of the ulna. "
     "This is a common wrist break (a Colles-type fracture). The small wrist bones are not broken."),
    # signs denied with their conclusion; decimals that share a unit; "a year"
    ("Aneurysm 4.9 cm (previously 4.1 cm), growth of 8 mm in 12 months. No periaortic stranding or haematoma to "
     "suggest leak or rupture. Common iliac arteries: right 1.6 cm, left 1.5 cm.",
     "The aneurysm is now 4.9 centimeters and last March it was 4.1, so that's 8 millimeters in a year. There's no sign "
     "of it leaking or bursting. The iliac arteries are right 1.6 and left 1.5 centimeters."),
    # a clinical question, an appendicolith, leaked air, a hip that has not popped out, staples that are out
    ("Indication: calf pain. ?DVT. No DVT in the left leg.", "No blood clot (DVT) in the left leg."),
    ("Appendicitis with a 6 mm appendicolith. No free air.",
     "Your appendix is inflamed. There is a small hard stone inside it, 6 mm. We saw no leaked air in your belly."),
    ("Left hip replacement. No dislocation. Skin staples no longer present.",
     "Your new left hip is in a good position and it hasn't popped out. And the staples are out."),
    ("Wedge-shaped opacity in the RLL, likely pulmonary infarct.",
     "A small area of the lower right lung is likely damaged. Something probably cut off its blood."),
    # more lay forms: shrinking muscle, bruised bones, full vessels, a flattened vertebra, chest glands,
    # an infected testicle, a needle test; an explanation that starts "sometimes this happens"; "it has grown"
    ("Mild fatty atrophy of the supraspinatus muscle.",
     "The muscle attached to this tendon has a small amount of fat in it. The muscle has started to shrink a little."),
    ("Complete ACL tear with bone bruises in the femur and tibia.",
     "The main ligament in the middle of the knee is torn. The bones show bruises from the injury."),
    ("Mild pulmonary vascular congestion.", "The blood vessels in your lungs are mildly full."),
    ("Stable mild L1 compression deformity.", "The slight flattening of the L1 bone is old and unchanged. Because of the flattened bone, "
     "a bone density scan may be worthwhile."),
    ("No hilar lymphadenopathy.", "The glands in the middle of his chest are not swollen."),
    ("Left epididymo-orchitis.", "The pain on his left side is caused by infection and swelling of the left testicle."),
    ("Mild left hydronephrosis. Recommend VCUG to assess for vesicoureteral reflux.",
     "The left kidney is a little swollen with urine. Sometimes this happens when urine flows backward from the bladder "
     "(reflux), so a test for reflux is recommended."),
    ("Right thyroid nodule, previously 1.3 cm, now 1.6 cm; meets criteria for FNA.",
     "The lump on the right was 1.3 cm. Now it is 1.6 cm. So it has grown. It is big enough for a needle test."),
    # a glossary and questions to ask state no finding of the patient
    ("Acute appendicitis. No abscess.",
     "Your appendix is inflamed. There is no pocket of pus.\n\nWords to know:\n- Appendicitis: swelling and infection of "
     "the appendix.\n- Brace: a support worn for 18 hours a day.\n\nQuestions to ask your doctor:\n- What happens if "
     "the test shows cancer cells?"),
    # risk, why a test was done, a density value left out, roomier fluid spaces, thinner bone, worn cartilage
    ("4 mm LUL nodule; no routine follow-up if low risk.",
     "There is a 4 mm spot in the left upper lung. If you are at low risk for lung cancer, it needs no follow-up."),
    ("Left calf DVT.", "This test was done because your left calf was swollen. There is a clot in a deep vein of the left calf."),
    ("Left adrenal adenoma, 1.6 cm, 5 HU.", "There is a 1.6 cm harmless growth (adenoma) on the left adrenal gland."),
    ("Age-related volume loss.", "The fluid spaces in and around your brain are a bit roomier, which is normal with age."),
    ("Periarticular osteopenia at the MCP joints.", "The bone around the knuckles is a bit thinner."),
    ("Grade 3 chondral loss of the medial femoral condyle.",
     "- Worn cartilage: the cartilage on the inner end of the thigh bone is badly worn (grade 3)."),
    # a ratio names both sides; "right on track"; atherosclerosis; breast tissue that is fatty;
    # one lay word for findings in two organs, read organ by organ ("it" is the organ just named)
    ("Right to left ventricle ratio 0.8; no right heart strain.", "The right side of your heart is not strained. Its size compared with "
     "the left side (a ratio of 0.8) is normal."),
    ("Biometry consistent with dates. Mild left renal pelvis dilatation (5 mm).",
     "The growth is right on track. The part of the baby's left kidney that collects urine is slightly widened, 5 mm."),
    ("Moderate calcified atherosclerosis.", "There is a moderate amount of hardening of the arteries with calcium."),
    ("Heterogeneously dense breast tissue.", "Your breast tissue is a mix of dense and fatty areas."),
    ("The appendix is dilated to 11 mm. Kidneys enhance symmetrically without hydronephrosis.",
     "Your appendix is a small pouch of the bowel. It is swollen to 11 mm across. Both kidneys take up the dye evenly "
     "and neither is swollen with trapped urine."),
    ("Clinical:\nFever, productive cough x 3 days.\nRight lower lobe pneumonia.", "You have pneumonia in the lower right lung."),
    # a lay word glossed by a term in brackets is that term; a lay word on the side of another finding
    ("Infrarenal AAA 5.4 cm. No periaortic stranding to suggest rupture.",
     "This scan checked the swelling (aneurysm) in your aorta. It is now 5.4 cm. There is no sign it has burst. "
     "The healthy stretch of aorta ends at the start of the swelling."),
    ("Right breast: new 9 mm enhancing mass. Left breast: 5 mm enhancing focus, stable.",
     "There's a new 9 mm spot in your right breast. In your left breast there's a tiny 5 mm spot that hasn't changed."),
    ("Mesioangular impaction of 38 and 48.", "Both lower wisdom teeth are stuck. They are tilted forwards towards the teeth "
     "in front of them."),
    # "w/o"; calcified plaque in lay words; a fluid sac; a dash gloss shares its term's denial;
    # what a score means; a word defined once is that word later too
    ("Colonic diverticulosis w/o diverticulitis. Severe calcified atherosclerosis.",
     "There are small pouches in the bowel wall (diverticulosis), with no sign of infection in them. We saw a lot of "
     "hardening with calcium in your arteries."),
    ("Incidental 8 mm pineal cyst.", "We also saw a small 8 mm fluid sac on the pineal gland."),
    ("No pericholecystic fluid.", "There is no pericholecystic fluid — fluid around the gallbladder — to worry about."),
    ("Left peripheral zone lesion, PI-RADS 4.", "There is a spot on the left of the prostate. We score it PI-RADS 4 out of "
     "5, which means a significant cancer is likely."),
    ("Multiple T2 hyperintense lesions; two new lesions since 04/2024.",
     "There are several lesions — which means bright spots on the scan. Two of them are new since April 2024. "
     "The two new spots mean the disease has been active."),
    ("CT abdomen/pelvis w/o contrast (renal stone protocol). 6 mm left ureteric calculus.",
     "A 6 mm stone is stuck in the left tube that drains the kidney."),
    ("Popliteal vein patent. Calf DVT.", "So basically the main thing we were worried about was a clot above the knee, "
     "and there isn't one: the vein behind the knee is open. There is a clot in a calf vein. Come back at once if the leg gets more swollen."),
    # heart chambers are no body sides; "did not see signs that ... are straining"; a clot that has not spread
    # upward; a prior biopsy is history
    ("Right lower lobe PE. RV/LV ratio 0.8, no CT evidence of right heart strain.",
     "We saw clots in the lower right lung. We did not see signs that the clots are straining your heart: the right "
     "pumping chamber is 0.8 times the size of the left one."),
    ("Right calf DVT. No proximal extension to the popliteal vein.",
     "There is a clot in the right calf. The good news is it has not spread upward."),
    ("No prior biopsy. Left peripheral zone lesion. Targeted biopsy recommended.",
     "There is a spot on the left of the prostate. We recommend a biopsy aimed at it."),
    # the report settles its own hedge; a hedged rewrite keeps it
    ("Liver hypoattenuation suggestive of hepatic steatosis. IMPRESSION: Hepatic steatosis.",
     "Your liver looks like it has fat build-up."),
    # a "History:" line is history to its end, "follow-up" in it included; "? PE" is one query
    ("CT HEAD\nHistory: 82F, fall. Right frontal scalp swelling.\nFindings:\nNo intracranial haemorrhage.",
     "There is no bleeding inside your head."),
    ("XR PELVIS\nHistory: s/p left THR 2019, routine follow-up.\nFindings:\nLeft hip replacement well seated.",
     "Your left hip replacement is sitting firmly in place."),
    ("CTPA\nIndication: SOB, ? PE.\nFindings:\nNo pulmonary embolus.", "We did not see any blood clots in your lungs."),
    # a heading the next sentence names again; a bracketed term closing a denial shares it
    ("No pulmonary embolus.", "- Blood clots: We did not see any blood clots in the blood vessels of your lungs "
     "(pulmonary embolism)."),
    # a lay word glossed by a related term is that term, singular or plural
    ("Multiple T2 lesions. Two new T2 lesions since prior. No new infratentorial lesions.",
     "Your MRI shows two new MS spots since your last scan. As before, there are several bright spots (lesions). There "
     "are no new spots in the lower brain."),
    # general statements, definitions and specialists name no finding of this patient
    ("Left peripheral zone lesion with early enhancement. PI-RADS 4.",
     "There is a spot on the left of the prostate that takes up the dye early, which can be a sign of cancer. It is "
     "scored PI-RADS 4. Your case will be discussed at the meeting of cancer specialists."),
    ("Enlarged hyperaemic left epididymis, consistent with epididymitis.",
     "The left epididymis is swollen with extra blood flow (epididymitis). Epididymitis is often caused by an infection."),
    ("Popliteal vein non-compressible.", "The vein behind the knee couldn't be squashed flat by the probe, which is how we "
     "can tell it's blocked with a clot."),
    ("9 mm right tentorial meningioma.", "There is a 9 mm meningioma on the right. A meningioma is a growth of the "
     "covering of the brain."),
    # a lay word in the organ of a related report finding is that finding
    ("Lungs clear; no pulmonary nodules. Enlarging 1.4 cm liver lesion.",
     "The lesion in your liver has grown to 1.4 cm, and this spot in your liver will be looked at again. Your lungs are "
     "clear, with no spots."),
    # vessel abbreviations, dead tissue, bursal fluid, a specialist with a gloss, referral in days
    ("Left popliteal DVT. Right CFV: patent.", "There is a clot behind the left knee. The vein in your right groin is open."),
    ("Right lower lobe PE. No pulmonary infarct.", "There are clots in the right lower lung. There is no dead area of "
     "lung tissue."),
    ("Small subacromial-subdeltoid bursal effusion.", "There is a small amount of fluid in the sac (bursa) above the shoulder."),
    ("Complete ACL tear. Orthopaedic referral advised.", "The ACL is completely torn. We'd suggest seeing an orthopaedic "
     "(bone and joint) specialist."),
    ("Scaphoid intact. Recommend repeat scaphoid views in 10-14 days if snuffbox tenderness.",
     "The scaphoid is not broken. If you are tender at the base of the thumb, it's a good idea to have more X-ray pictures "
     "of the scaphoid in 10-14 days."),
    # fluid in a knee or a bursa is a joint effusion; "patches (lesions)" names each later patch
    ("Right knee: moderate osteoarthritis. Small right knee effusion.",
     "Your right knee has moderate wear and tear. There is a small amount of fluid in the pouch above the right kneecap."),
    ("Moderate fluid in the subacromial-subdeltoid bursa.", "There is a moderate amount of fluid in the cushion-like "
     "sac above the shoulder."),
    ("Multiple T2 lesions. Two new T2 lesions since 09/2023, one of 5 mm in the right centrum semiovale.",
     "These are the MS patches (lesions) we already knew "
     "about. There are two new patches since September: one 5 mm patch on the right side."),
    # a stone impacted in the gallbladder neck is no impacted tooth
    ("Gallbladder distended with multiple calculi, one impacted in the gallbladder neck.",
     "Your gallbladder is stretched and full of gallstones, and one is wedged in its neck."),
    # lay forms: eyesight nerves pressed on, a squashed bit of lung, a scarred liver, a kidney and its tube
    # swollen, swelling from blocked urine, normal-looking glands, cracked cartilage, a dried-out disc
    ("Pituitary microadenoma. Optic chiasm not compressed.", "The small lump on the pituitary gland isn't pressing on the "
     "nerves that carry your eyesight."),
    ("Small right pleural effusion with adjacent compressive atelectasis.", "There is a little fluid around your right "
     "lung. The bit of lung right next to it is slightly squashed by the fluid."),
    ("Mild hepatic steatosis. No cirrhotic morphology.", "Your liver has a little extra fat in it. Your liver does not "
     "show scarring."),
    ("Mild left hydroureteronephrosis.", "The left kidney and its tube are a bit swollen."),
    ("No hydronephrosis bilaterally.", "There is no swelling of either kidney from blocked urine (no hydronephrosis)."),
    ("No mediastinal or hilar lymphadenopathy.", "The glands in the middle of your chest and around the lungs look normal."),
    ("Focal partial-thickness chondral fissuring of the medial femoral condyle. No fracture.",
     "The cartilage on the inner side of the thigh bone has a small area of partial-thickness cracking. No bone is broken."),
    ("L4-5: Disc desiccation.", "At L4-5 the disc has dried out (wear and tear)."),
    ("Old lacunar infarct in the left cerebellum.", "There is the scar of an old tiny stroke on the left side of the "
     "cerebellum."),
    ("Bibasal atelectasis.", "The bottom parts of both lungs are not fully opened up."),
    # a calcified artery explained as a sign of hardening; a swelling named back in the next sentence
    ("Moderate coronary artery calcification.", "There is a moderate amount of calcium in the heart's arteries. That's a "
     "sign of some hardening of the arteries."),
    ("Mild left hydronephrosis.", "The left kidney is a bit swollen. The swelling is mild."),
    # how tests work, a modal that stays a hedge, normal fluid, a good place for a tube
    ("No hip fracture. Occult fracture cannot be excluded; MRI is recommended.",
     "We did not see a break in your hip. Sometimes a break does not show on an X-ray. Your doctors may still think there "
     "is a break. If so, you may need an MRI scan. This can find a hidden break."),
    ("Left varicocele. Trace physiological fluid bilaterally.", "There are swollen veins above the left testicle. There's "
     "also a trace of normal fluid around both testicles."),
    ("ETT tip 4.5 cm above the carina.", "The breathing tube's tip is 4.5 cm above the carina. That is a good spot."),
    ("Nonspecific white matter hyperintensities.", "There are a few bright spots in the white matter of the brain (white "
     "matter hyperintensities). They can come from migraines or from small blood vessel changes."),
    # a denial told over sentences that point back; a sign denied with its denied conclusion
    ("Sigmoid diverticulosis without evidence of diverticulitis.", "The last part of your large bowel has small pouches "
     "in its wall. These pouches are common as people get older. They are not infected or inflamed."),
    ("No filling defect to the subsegmental level. No evidence of pulmonary embolism.",
     "There is no blood clot in the lungs."),
    # two words for one thing; the other side named by the report; a comparison heading; an obscuring cause
    ("Left frontal scalp soft tissue swelling/haematoma.", "There is a collection of blood under the skin (a haematoma) "
     "on the left side of your scalp."),
    ("Right calf DVT. Contralateral CFV flow phasic.", "There is a clot in your right calf. Blood flow in the main vein "
     "at the top of the left leg looks normal."),
    ("Comparison: AP chest 1 day prior.\nIncreased bilateral airspace opacities.", "The hazy areas in both lungs are "
     "worse than on the X-ray taken the day before."),
    ("Buckle fracture of the distal radius. The physis is not involved.", "There is a buckle break near the end of the "
     "forearm bone. The break does not go into the growth plate."),
    # a year before "to" starts no range; a story's durations and a worked-out change measure no finding
    ("Slight interval growth of the nodule, now 1.6 cm (1.4 cm in 06/2023).", "The nodule has grown slightly, from "
     "1.4 cm in June 2023 to 1.6 cm now."),
    ("Right knee MRI. Bone bruise of the lateral femoral condyle.", "Three weeks ago you twisted your right knee playing "
     "football. There is a bruise inside the bone at the outer end of the thigh bone."),
    ("AAA 5.6 cm, previously 5.1 cm.", "Your aortic aneurysm is 5.6 cm. On your last scan it was 5.1 cm, so it has "
     "grown by half a centimetre."),
    # a bare effusion in a knee report is fluid in the joint; an analogy ends at a dash
    ("Right knee MRI. Small effusion and Baker's cyst.", "There is a small amount of extra fluid in the knee joint and a "
     "fluid-filled pocket behind the knee (Baker's cyst)."),
    ("Subacromial-subdeltoid bursitis.", "The bursa - a small, flat cushion, like a water balloon with almost no water in "
     "it - is inflamed (bursitis)."),
    # what can happen, the symptoms that led to the scan, dye that lights vessels up, a swollen sinus lining
    ("No pneumothorax following line insertion.", "Putting in a neck line can sometimes let air leak around a lung. That "
     "has not happened: there is no collapsed lung."),
    ("CTPA: no pulmonary embolism.", "You had sharp chest pain that was worse when you breathed in. The scan used dye "
     "injected into a vein to light up the blood vessels of the lungs. There is no blood clot in the lungs."),
    ("Mild mucosal thickening in the ethmoid air cells.", "The air spaces between the eyes have a little swelling in the "
     "lining."),
    ("Peroneal veins not well visualized due to edema.", "We could not see the peroneal veins clearly because of the "
     "swelling in your leg."),
    # "has left", "just right", "right in line" are no sides; levoscoliosis curves to the left; 20w0d is 20 weeks
    ("Bone bruising of the lateral femoral condyle.", "When it tore, the bones knocked together, and that has "
     "left bruises in the bone on the outer side of the thigh bone."),
    ("Biometry 20w1d, concordant with dates. Mild left pyelectasis.", "Baby measures 20 weeks and 1 day, right in line "
     "with your dates, and growth is just right. The middle of baby's left kidney is slightly wide."),
    ("Mild lumbar levoscoliosis.", "Her lower spine curves slightly to the left."),
    ("Gestational age 20w0d.", "You are 20 weeks exactly."),
    # a lump "that would suggest" cancer, and cancer that has "come back", are denied with the lump
    ("No soft tissue mass at the anastomosis to suggest local recurrence.", "There is no sign that the bowel cancer has "
     "come back, and no lump there that would suggest the cancer is growing back."),
    # a test that "cannot always show" hedges; a line opening with age and sex is the history
    ("CT cannot exclude a very early infarct.", "A CT scan cannot always show a stroke in its very first hours."),
    ("22M, cough and fever x 5 days. Right lower lobe pneumonia.", "There is an infection in the lower part of the right lung."),
    # new lay forms: hippocampi that have shrunk, a swollen sinus lining, a dark area for a lucency
    ("Bilateral hippocampal volume loss.", "The memory centres, called the hippocampi, have shrunk on both sides."),
    ("Mucosal thickening of the left maxillary sinus.", "There is a little swelling of the lining of the left cheek sinus."),
    ("Periapical lucency at tooth 26.", "There is a dark area around the root of tooth 26."),
    # a capitals label before a dash is a heading; "not even" after a dash keeps denying
    ("No pneumothorax.", "AIR LEAK – There is no collapsed lung (no pneumothorax)."),
    ("No pneumothorax.", "AIR LEAK – there is no collapsed lung."),
    ("No intracranial haemorrhage; no microhaemorrhages.", "There is no bleeding in the brain - not even the tiny spots of "
     "old bleeding."),
    # a bone "which often breaks when an ankle rolls" is intact; "has become smaller" compares with before
    ("Base of 5th metatarsal intact.", "The base of the 5th metatarsal (the bone on the outer edge of your foot, which "
     "often breaks when an ankle rolls) is intact."),
    ("Aortic aneurysm after EVAR: interval decrease in sac size and no endoleak.", "We did not see any blood leaking around the "
     "graft into the old swelling (no endoleak). The old swelling of the artery (the aneurysm sac) has become a little "
     "smaller."),
    # a nodular liver outline is cirrhosis, not a nodule; varices are swollen veins of the gullet and stomach
    ("Nodular liver contour, consistent with cirrhosis. No focal liver lesion. Oesophageal varices.",
     "The liver has the lumpy outline of cirrhosis. We did not see any spots in the liver. There are swollen veins "
     "(varices) around the food pipe."),
    # fluid in a joint said joint first; wear at the vertebrae's edges; a flap that moved; a gene's risk
    ("Glenohumeral joint: small effusion.", "In the main ball-and-socket joint there's a small amount of fluid."),
    ("Diffuse degenerative endplate change.", "Some wear-and-tear change is seen at the edges of the vertebrae."),
    ("Medial meniscal tear with a displaced flap fragment.", "The inner cushion is torn, and a loose flap of it has moved "
     "into a small space on the inner side of the knee."),
    ("BRCA1 carrier. No suspicious mass.", "You carry a gene that raises the chance of breast cancer. There is no "
     "worrying lump."),
    # glands that fight germs; a denial ends at ", and blood flows"; a duct that "has got wider"; cells taken with a needle
    ("No lymphadenopathy.", "The small glands that fight germs are not swollen."),
    ("No focal liver lesion. Hepatopetal portal venous flow.", "No lumps or spots were seen in the liver, and blood flows "
     "the right way into the liver through the portal vein."),
    ("CBD 9 mm, increased from 6 mm.", "The duct has widened to 9 mm. On your ultrasound it was 6 mm, so it has got wider."),
    ("Right thyroid nodule; meets criteria for FNA.", "There is a lump in the right side of the thyroid. Next step: a doctor "
     "will take a few cells from the right lump with a thin needle."),
    # a dental infection is an abscess; "not there on your X-ray" is new; asking a team to see you is a recommendation
    ("Periapical lucency at 46, consistent with periapical abscess.", "There is a dark spot at the tip of the root of "
     "tooth 46, which is an infection at the root tip."),
    ("Small left pleural effusion, new since the prior study.", "There is a little fluid at the bottom of the left lung, "
     "which wasn't there on your X-ray from two days ago."),
    ("Displaced fracture. Surgical review advised.", "The bone is broken and out of place. We have asked the surgical team "
     "to review you."),
])
def test_lay_wording_of_the_same_facts_is_not_flagged(original: str, rewrite: str) -> None:
    assert fidelity(original, rewrite) == set()


@pytest.mark.parametrize("original,rewrite,expected", [
    ("No focal consolidation.", "There is a patch of infection in the lungs.", "negation"),
    ("Gallstones without gallbladder wall thickening.", "There are gallstones and the gallbladder wall is thicker than normal.",
     "negation"),
    ("L5-S1 disc herniation. Mild spinal canal stenosis.",
     "You have a slipped disc and a narrow spinal canal. There is also wear and tear in the small joints of the spine.",
     "addition"),
    ("Minimally displaced fracture of the distal radius.",
     "The radius is broken and slightly out of place. There is also a small break in the ulna.", "addition"),
    # a measurement anchors only a sentence that does not keep another finding beside it
    ("4.5 cm Baker's cyst with a small rupture.", "There is a 4.5 cm cyst behind the knee.", "omission"),
    # a denied finding that the report states is a flip, not a harmless denial
    ("Small right pleural effusion.", "There is no fluid around the lungs.", "negation"),
    # severities that trade sides keep every finding and side, but not the facts
    ("Severe osteoarthritis of the left hip. Mild degenerative change in the right hip.",
     "There is severe wear and tear in your right hip. The left hip has mild wear and tear.", "laterality"),
    ("Small left haemothorax. No pneumothorax.", "There is no collapsed lung.", "omission"),
    # a report sentence that only denies has nothing to anchor a loose denial to
    ("Small right effusion. No pneumothorax.", "There is a little fluid around the right lung. Nothing else is wrong.",
     "omission"),
    # one report sentence explains one added finding, not two
    ("Stomach is distended with fluid.", "His stomach is swollen with fluid. There is also loose fluid in his belly.",
     "addition"),
    # a measured finding that changes sides, whatever the rewrite calls it
    ("A 1.2 cm enhancing filling defect in the right renal pelvis.",
     "There is a 1.2 cm area of soft tissue inside your left kidney.", "laterality"),
    # a named new finding in an organ the report discusses is still an addition
    ("Gallstones. Normal liver.", "There are gallstones. The liver is fatty.", "addition"),
    # the same stances, but a denial became one more affirmation
    ("Thrombus in the left popliteal vein. No thrombus in the calf veins. Femoral vein is compressible.",
     "There is a clot in the vein behind your left knee. A clot was also seen in the calf veins. "
     "The thigh vein squashes flat normally.", "negation"),
    # a vein that cannot be squeezed flat holds a clot
    ("The common femoral vein is compressible.", "The big vein in the groin could not be squeezed flat.", "negation"),
    # the report's own "normal" sentence takes the rewrite's restatement; a dropped denial stays dropped
    ("Left prostate lesion. Seminal vesicles are normal. No suspicious bone lesions.",
     "There is a spot on the left side of the prostate. The seminal vesicles look normal.", "omission"),
    # one report finding, two lay words that never meet: the second is a finding of its own
    ("Multiple periventricular T2 hyperintense lesions. No enhancing lesion. Mild atrophy.",
     "There are several bright spots near the fluid spaces of the brain. None of the spots light up with dye. "
     "The brain is slightly shrunken. There is a small cyst in the pineal gland in the middle of the brain.", "addition"),
    # a unitless ratio told with other digits; surgical clips, bowel gas and a spur are findings
    ("Right ICA PSV 160 cm/s, ICA/CCA ratio 4.2.", "The blood speed is 160 cm/s and the speed ratio is 2.4.", "measurement"),
    ("Surgical clips in the right upper quadrant. No free air.", "There is no free air in the belly.", "omission"),
    ("Dilated small bowel loops. Gas is present in the colon and rectum.",
     "Some loops of small bowel are wider than normal. There is no gas in the large bowel or rectum.", "negation"),
    ("No fracture. Small plantar calcaneal spur.", "No bones are broken.", "omission"),
    # an affirmation told where the report denied it, and a side moved for a size given twice
    ("Popliteal vein fully compressible. No proximal DVT. Thrombus in a left posterior tibial vein.",
     "The large veins in the groin press flat normally. There is a blood clot in the deep vein behind your left knee "
     "(popliteal vein). There is a clot in one of the posterior tibial veins of the left calf.", "negation"),
    ("RIGHT: new 9 mm enhancing mass. IMPRESSION: Right breast: new 9 mm mass, suspicious.",
     "Left breast: there is a new 9 mm spot. It is suspicious.", "laterality"),
    ("Dilated veins of the left pampiniform plexus, consistent with a left varicocele.",
     "The veins above the testicles on both sides are swollen. This is called a varicocele.", "laterality"),
    # a second fracture in a named bone, loaded bowel, a clot reaching above the knee
    ("Displaced left femoral neck fracture.", "Your left hip is broken. There is also a small crack in the right pubic bone.",
     "addition"),
    ("Normal bowel gas pattern. No free air.", "The bowel looks normal. There is a lot of stool in the large bowel. "
     "There is no free air.", "addition"),
    ("Calf DVT. No proximal extension to the popliteal vein.",
     "There is a clot in a calf vein, extending into the popliteal vein behind the knee.", "negation"),
    ("Placenta posterior, clear of the internal os. Amniotic fluid normal.",
     "The placenta is at the back of the womb. The fluid around the baby is normal. The view was clear.", "omission"),
    # enlarged nodes in lay words, bone forming in soft tissue, a placenta told as lying low
    ("No pulmonary embolus. Small right pleural effusion.", "There are no clots. A few lymph nodes in the middle of your "
     "chest are slightly bigger than usual. There is a little fluid by the right lung.", "addition"),
    ("Left total hip arthroplasty, well seated.", "Your left hip replacement is well seated. Some small pieces of extra "
     "bone have formed in the soft tissues around it.", "addition"),
    ("Placenta posterior, not low-lying.", "The placenta is attached to the back wall of the womb and is lying low.",
     "negation"),
    # a history label covers its line, not the findings of a report written as one paragraph
    ("CT maxillofacial. History: assault. Findings: Minimally displaced fracture of the right zygomatic arch.",
     "The scan shows nothing broken.", "negation"),
    # a slash lists two denied findings; a report's other side does not cover a swapped side
    ("No free gas or collection to suggest perforation/abscess.", "There is no sign of a burst. There is a pocket of "
     "pus (abscess).", "negation"),
    ("Right knee effusion.", "There is fluid in the left knee.", "laterality"),
    # a bracket with its own "no" keeps its own stance; "normal" fluid in a named place is still that finding
    ("Moderate right hydronephrosis.", "The right kidney is not blocked (no hydronephrosis).", "negation"),
    ("Moderate hydrocele.", "There is no fluid around the testicle.", "negation"),
    # thin bones named as a structure are no osteoporosis, but thin bones are
    ("Chronic sinusitis.", "The lining of the sinuses is swollen. Your bones are thin.", "addition"),
    ("Buckle fracture of the distal radius. The physis is not involved.", "There is a buckle break near the end of the "
     "forearm bone. The fracture runs into the growth plate.", "negation"),
    # a changed follow-up time is still a changed number
    ("Follow-up CT in 6 months.", "We will repeat the scan in 12 months.", "measurement"),
    # a slash joins two words for one finding only when the rewrite keeps one of them
    ("Left frontal scalp swelling/haematoma. No fracture.", "The skull bone is not broken.", "omission"),
    # a vertebra slipped forward is a finding of its own
    ("Degenerative disc disease at L4-5.", "The discs show wear at L4-5. The L4 bone has also slipped forward a little "
     "on the L5 bone below it.", "addition"),
    ("No soft tissue mass to suggest recurrence.", "There is a lump, a sign that the cancer has come back.", "negation"),
    # "has left" before a body part is still a side; fluid by the lungs is no fluid round the heart;
    # a catheter's size in French is no patient's sex
    ("Right lower lobe consolidation.", "The patient has left lower lobe pneumonia.", "laterality"),
    ("Small bilateral pleural effusions.", "There is fluid around the lungs and strain on the heart.", "addition"),
    ("8 F drain in the right pleural space with a small residual pneumothorax.", "There is a thin tube in the right side "
     "of the chest.", "omission"),
])
def test_new_findings_and_flips_in_lay_wording_are_flagged(original: str, rewrite: str, expected: str) -> None:
    assert expected in fidelity(original, rewrite)


def test_embedding_fallback_never_hides_a_new_finding_side_or_number() -> None:
    """Cosine alone matched "a small cyst on the left ovary" to "both ovaries are normal"."""
    original = "Enlarged uterus with fibroids. Both ovaries are normal. No free fluid."
    rewrite = ("The womb is bigger than normal, with fibroids. Ovaries: both normal, apart from a small cyst on the "
               "left ovary. No free fluid.")
    assert "addition" in fidelity(original, rewrite, embeddings=True)
