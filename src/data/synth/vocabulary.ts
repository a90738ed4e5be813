/**
 * Clinical phrasing for synthetic notes: small, repetitive vocabularies on purpose, so a small
 * character-level model can learn the structure (and anything it reproduces beyond it stands out).
 */

export interface Complaint {
  complaint: string;
  symptoms: string[];
  assessments: string[];
  plans: string[];
}

export const complaints: Complaint[] = [
  {
    complaint: 'chest pain',
    symptoms: ['pain is substernal and pressure-like', 'pain worsens with exertion and eases with rest', 'pain radiates to the left arm'],
    assessments: ['atypical chest pain, rule out acute coronary syndrome', 'stable angina', 'musculoskeletal chest pain'],
    plans: ['obtain ECG and troponin', 'start aspirin 81 mg daily', 'refer to cardiology for stress test'],
  },
  {
    complaint: 'shortness of breath',
    symptoms: ['dyspnea on exertion for two flights of stairs', 'orthopnea with two pillows', 'wheezing at night'],
    assessments: ['COPD exacerbation', 'heart failure with reduced ejection fraction', 'asthma, poorly controlled'],
    plans: ['obtain chest x-ray and BNP', 'start albuterol inhaler as needed', 'increase furosemide to 40 mg daily'],
  },
  {
    complaint: 'abdominal pain',
    symptoms: ['pain is in the right lower quadrant', 'nausea without vomiting', 'pain after fatty meals'],
    assessments: ['biliary colic', 'gastritis', 'irritable bowel syndrome'],
    plans: ['obtain abdominal ultrasound', 'start omeprazole 20 mg daily', 'check CBC and lipase'],
  },
  {
    complaint: 'headache',
    symptoms: ['throbbing headache with photophobia', 'headache worse in the morning', 'no focal weakness or vision loss'],
    assessments: ['migraine without aura', 'tension-type headache', 'medication overuse headache'],
    plans: ['start sumatriptan 50 mg as needed', 'keep a headache diary', 'limit analgesics to two days per week'],
  },
  {
    complaint: 'cough',
    symptoms: ['productive cough with yellow sputum', 'dry cough for three weeks', 'low grade fever at night'],
    assessments: ['community acquired pneumonia', 'acute bronchitis', 'post-viral cough'],
    plans: ['start amoxicillin 500 mg three times daily', 'obtain chest x-ray', 'return if fever persists'],
  },
  {
    complaint: 'elevated blood sugar',
    symptoms: ['polyuria and polydipsia', 'fasting glucose readings above 180 at home', 'blurred vision in the evenings'],
    assessments: ['type 2 diabetes mellitus, uncontrolled', 'type 2 diabetes mellitus with hyperglycemia', 'prediabetes'],
    plans: ['increase metformin to 1000 mg twice daily', 'check hemoglobin A1c in three months', 'refer to diabetes education'],
  },
  {
    complaint: 'back pain',
    symptoms: ['low back pain after lifting', 'pain radiates down the left leg', 'no bowel or bladder changes'],
    assessments: ['lumbar strain', 'lumbar radiculopathy', 'degenerative disc disease'],
    plans: ['start ibuprofen 600 mg three times daily with food', 'refer to physical therapy', 'obtain lumbar MRI if no improvement'],
  },
  {
    complaint: 'high blood pressure',
    symptoms: ['home readings above 150 systolic', 'occasional morning headaches', 'no chest pain or dyspnea'],
    assessments: ['essential hypertension, uncontrolled', 'essential hypertension', 'white coat hypertension'],
    plans: ['start lisinopril 10 mg daily', 'check basic metabolic panel in two weeks', 'reduce sodium intake'],
  },
];

export const histories = [
  'hypertension',
  'type 2 diabetes',
  'hyperlipidemia',
  'asthma',
  'COPD',
  'coronary artery disease',
  'atrial fibrillation',
  'hypothyroidism',
  'depression',
  'chronic kidney disease',
  'obesity',
  'osteoarthritis',
];

export const medications = [
  'metformin 500 mg twice daily',
  'lisinopril 10 mg daily',
  'atorvastatin 40 mg nightly',
  'amlodipine 5 mg daily',
  'levothyroxine 75 mcg daily',
  'metoprolol 25 mg twice daily',
  'albuterol inhaler as needed',
  'sertraline 50 mg daily',
  'omeprazole 20 mg daily',
  'apixaban 5 mg twice daily',
  'furosemide 20 mg daily',
  'insulin glargine 20 units nightly',
];

export const denials = ['fever', 'chills', 'weight loss', 'night sweats', 'syncope', 'palpitations', 'vomiting'];

export const followUps = ['1 week', '2 weeks', '4 weeks', '3 months', '6 months'];
