// The questions of the recall benchmark, phrased the way an agent asks before acting, with the
// memories (memories.ts) that answer them: 2 = answers it, 1 = useful context (including a memory
// that tells who a description means: "the airline" → Oceanic Airlines' profile). Written by
// hand, in other words than the memories', and checked against the top hits of a keyword and a
// vector ranking for memories that answer but were not labelled.

export interface RecallQuestion {
  id: string;
  question: string;
  relevant: Record<string, 1 | 2>;
}

export const questions: RecallQuestion[] = [
  // Contact and communication
  { id: 'q-issue', question: 'what contact method does the customer prefer?', relevant: { 'issue-example': 2 } },
  {
    id: 'q-acme-reach',
    question: 'How should I get in touch with Acme?',
    relevant: { 'acme-channel': 2, 'acme-contact': 1 },
  },
  {
    id: 'q-globex-reach',
    question: 'Is it OK to ring the Globex CEO or should I write?',
    relevant: { 'globex-channel': 2, 'globex-contact': 1 },
  },
  {
    id: 'q-vandelay-reach',
    question: 'Art has not answered my email for a week, what is the best way to reach him?',
    relevant: { 'vandelay-channel': 2 },
  },
  {
    id: 'q-umbrella-reach',
    question: 'Can I email the hospital group directly about their rota problem?',
    relevant: { 'umbrella-channel': 2, 'umbrella-contact': 1, 'umbrella-profile': 1 },
  },
  {
    id: 'q-tyrell-call',
    question: 'When is a good time to phone Rachael?',
    relevant: { 'tyrell-channel': 2 },
  },
  {
    id: 'q-oceanic-call',
    question: 'What time of day should I schedule a call with the airline?',
    relevant: { 'oceanic-channel': 2, 'oceanic-profile': 1 },
  },
  {
    id: 'q-massive-meeting',
    question: 'How do I book time with Nina Sharp?',
    relevant: { 'massive-channel': 2, 'mtg-massive-exec': 1 },
  },
  {
    id: 'q-nakatomi-etiquette',
    question: 'Anything I should know before writing to our sponsor at the Tokyo trading company?',
    relevant: { 'nakatomi-channel': 2, 'mtg-nakatomi-intro': 1, 'nakatomi-contact': 1, 'nakatomi-profile': 1 },
  },
  {
    id: 'q-gringotts-send',
    question: 'Can I send the staff list to the London bank as a normal attachment?',
    relevant: { 'gringotts-channel': 2, 'note-encrypted-email': 1, 'gringotts-profile': 1 },
  },
  {
    id: 'q-stark-report',
    question: 'What does the Stark COO expect from us every week?',
    relevant: { 'stark-channel': 2, 'stark-contact': 1 },
  },
  {
    id: 'q-piedpiper-meeting',
    question: 'Should I set up a live meeting with Richard to walk through the release?',
    relevant: { 'piedpiper-channel': 2 },
  },
  // Account facts
  {
    id: 'q-acme-renewal',
    question: 'When is Acme up for renewal and how do they pay?',
    relevant: { 'acme-contract': 2 },
  },
  {
    id: 'q-biggest-account',
    question: 'Which customer has the most seats?',
    relevant: { 'oceanic-contract': 2 },
  },
  {
    id: 'q-wayne-buyer',
    question: 'Who holds the budget at Wayne Foods?',
    relevant: { 'wayne-contact': 2, 'mtg-wayne-budget': 1 },
  },
  {
    id: 'q-hooli-decider',
    question: 'Who makes the call on purchasing at Hooli?',
    relevant: { 'hooli-contact': 2, 'mtg-hooli-renewal': 1 },
  },
  {
    id: 'q-nakatomi-currency',
    question: 'What currency do we bill Nakatomi in?',
    relevant: { 'nakatomi-contract': 2, 'sup-nakatomi-invoice': 1 },
  },
  {
    id: 'q-monarch-where',
    question: 'Where is Monarch Solar located?',
    relevant: { 'monarch-profile': 2 },
  },
  {
    id: 'q-renewals-march',
    question: 'Which accounts renew in March?',
    relevant: { 'acme-contract': 2, 'wonka-contract': 2 },
  },
  {
    id: 'q-umbrella-invoice',
    question: 'What do I need to put on an invoice for Umbrella Health?',
    relevant: { 'umbrella-contract': 2, 'note-po-process': 1 },
  },
  {
    id: 'q-initech-champion',
    question: 'Who is our advocate inside Initech?',
    relevant: { 'initech-contact': 2 },
  },
  {
    id: 'q-references',
    question: 'Which customers can prospects talk to as references?',
    relevant: { 'misc-reference': 2 },
  },
  // Customer needs and feature requests
  {
    id: 'q-acme-request',
    question: 'What integration does Acme keep bringing up?',
    relevant: { 'acme-usage': 2, 'mtg-acme-qbr': 1 },
  },
  {
    id: 'q-dark-theme',
    question: 'Which customer wants a dark mode in the product?',
    relevant: { 'initech-usage': 2, 'mtg-product-sync': 1, 'note-dark-theme-plan': 1 },
  },
  {
    id: 'q-offline',
    question: 'Who needs the app to work without an internet connection?',
    relevant: { 'monarch-usage': 2, 'sup-monarch-offline': 2, 'phoenix-goal': 1, 'mtg-monarch-beta': 1 },
  },
  {
    id: 'q-top-requests',
    question: 'What are the most requested features right now?',
    relevant: { 'mtg-product-sync': 2 },
  },
  {
    id: 'q-eu-data',
    question: 'Which clients need their data stored in Europe?',
    relevant: { 'gringotts-usage': 2, 'mtg-gringotts-dpa': 2, 'data-residency': 1, 'note-bank-prospect': 1 },
  },
  {
    id: 'q-equipment',
    question: 'Can customers reserve machines and rooms, not only staff?',
    relevant: { 'sup-cyberdyne-booking': 2, 'cyberdyne-usage': 2, 'note-resource-roadmap': 2 },
  },
  {
    id: 'q-swaps',
    question: 'Which client is unhappy about workers trading shifts too often?',
    relevant: { 'duff-usage': 2, 'mtg-duff-visit': 2, 'sup-duff-swaps': 2 },
  },
  {
    id: 'q-webhook-security',
    question: 'How does Pied Piper want the event notifications to be secured?',
    relevant: { 'mtg-piedpiper-webhooks': 2, 'piedpiper-usage': 1 },
  },
  // Risk, renewals and money
  {
    id: 'q-churn',
    question: 'Which accounts might not renew?',
    relevant: { 'churn-risk-list': 2, 'mtg-soylent-checkin': 2, 'sup-soylent-cancel': 1, 'mtg-wayne-budget': 1 },
  },
  {
    id: 'q-soylent-status',
    question: 'How is the relationship with the Portland nutrition startup going?',
    relevant: { 'mtg-soylent-checkin': 2, 'sup-soylent-cancel': 2, 'soylent-profile': 1 },
  },
  {
    id: 'q-hooli-discount',
    question: 'What price reduction did Hooli ask for at the renewal?',
    relevant: { 'mtg-hooli-renewal': 2 },
  },
  {
    id: 'q-discount-approval',
    question: 'Who has to sign off if I give a customer 15% off?',
    relevant: { 'misc-discount-policy': 2 },
  },
  {
    id: 'q-refund',
    question: 'Can a customer get money back for seats they did not use?',
    relevant: { 'sup-refund-policy': 2, 'note-seat-true-up': 1 },
  },
  {
    id: 'q-double-charge',
    question: 'Was any customer billed twice?',
    relevant: { 'sup-vandelay-billing': 2 },
  },
  {
    id: 'q-wayne-seats',
    question: 'Is Wayne Foods planning to reduce their licence count?',
    relevant: { 'mtg-wayne-budget': 2, 'wayne-contract': 1 },
  },
  // Incidents and support
  {
    id: 'q-jan-incident',
    question: 'What caused the big incident in January?',
    relevant: { 'sup-outage-jan': 2, 'sup-rca': 1 },
  },
  {
    id: 'q-acme-compensation',
    question: 'Did we compensate Acme for the downtime?',
    relevant: { 'sup-outage-credit': 2, 'mtg-acme-escalation': 1 },
  },
  {
    id: 'q-sla-urgent',
    question: 'How fast do we have to answer an urgent ticket from an enterprise customer?',
    relevant: { 'sup-sla': 2 },
  },
  {
    id: 'q-escalate',
    question: 'How do I escalate a customer issue to support?',
    relevant: { 'sup-escalation': 2, 'team-support-lead': 1 },
  },
  {
    id: 'q-globex-login',
    question: 'Why could Globex users not sign in last time?',
    relevant: { 'sup-globex-sso': 2 },
  },
  {
    id: 'q-oceanic-dst',
    question: 'Did the airline have problems when the clocks changed?',
    relevant: { 'sup-oceanic-timezone': 2, 'oceanic-profile': 1 },
  },
  {
    id: 'q-umbrella-privacy',
    question: 'Was there ever a privacy problem at the hospitals?',
    relevant: { 'sup-umbrella-ticket': 2, 'umbrella-profile': 1 },
  },
  {
    id: 'q-hooli-throttled',
    question: 'Why was Hooli being throttled?',
    relevant: { 'sup-hooli-ratelimit': 2, 'hooli-usage': 1, 'note-rate-limits': 1 },
  },
  // Projects
  {
    id: 'q-atlas-what',
    question: 'What is the Atlas project about?',
    relevant: { 'atlas-goal': 2, 'atlas-risk': 1 },
  },
  {
    id: 'q-atlas-when',
    question: 'When is the warehouse migration due?',
    relevant: { 'atlas-deadline': 2, 'atlas-goal': 1 },
  },
  {
    id: 'q-atlas-affected',
    question: 'Which customers will be hurt when the old replica goes away?',
    relevant: { 'atlas-customers': 2, 'atlas-risk': 2, 'mtg-atlas-review': 1 },
  },
  {
    id: 'q-phoenix-launch',
    question: 'When does the new mobile app come out?',
    relevant: { 'phoenix-deadline': 2, 'phoenix-goal': 1 },
  },
  {
    id: 'q-phoenix-feedback',
    question: 'What did beta users complain about in the redesigned app?',
    relevant: { 'phoenix-feedback': 2 },
  },
  {
    id: 'q-onboarding-target',
    question: 'What is the goal for getting new accounts up and running?',
    relevant: { 'onboarding-metric': 2, 'onboarding-goal': 2 },
  },
  {
    id: 'q-sso-price',
    question: 'Does single sign-on cost extra?',
    relevant: { 'sso-pricing': 2, 'mtg-pricing-review': 1 },
  },
  {
    id: 'q-api-deadline',
    question: 'When do the legacy bulk API endpoints go away?',
    relevant: { 'api-v2': 2, 'note-api-docs': 1 },
  },
  // Dana's preferences
  {
    id: 'q-coffee',
    question: 'How does Dana take her coffee?',
    relevant: { 'pref-coffee': 2, 'pref-tea': 1 },
  },
  {
    id: 'q-dinner',
    question: 'I am booking a restaurant for the team, any dietary needs for Dana?',
    relevant: { 'pref-diet': 2, 'pref-allergy': 2 },
  },
  {
    id: 'q-meeting-slot',
    question: 'When should I schedule a customer call for Dana?',
    relevant: { 'pref-meetings-morning': 2, 'pref-focus': 1, 'pref-timezone': 1, 'pref-bike': 1 },
  },
  {
    id: 'q-friday',
    question: 'Can I put an internal sync on Friday at 3pm?',
    relevant: { 'pref-no-friday': 2 },
  },
  {
    id: 'q-summary-format',
    question: 'How does Dana like her summaries written?',
    relevant: { 'pref-summaries': 2, 'pref-spelling': 1 },
  },
  {
    id: 'q-flight',
    question: 'What seat should I book on her flight to Barcelona?',
    relevant: { 'pref-flight-seat': 2, 'pref-airline': 1, 'misc-travel-policy': 1, 'note-flight-booking': 1 },
  },
  {
    id: 'q-renewal-reminder',
    question: 'How early should I remind Dana about an upcoming renewal?',
    relevant: { 'pref-reminders': 2 },
  },
  {
    id: 'q-wednesday',
    question: 'Is Dana free late on Wednesday afternoons?',
    relevant: { 'pref-pickup': 2 },
  },
  // Team
  {
    id: 'q-boss',
    question: 'Who does Dana report to?',
    relevant: { 'team-manager': 2, 'note-weekly-report': 1 },
  },
  {
    id: 'q-feature-request-owner',
    question: 'Who should I pass a product idea to?',
    relevant: { 'team-pm': 2, 'note-feedback-board': 1 },
  },
  {
    id: 'q-tomas-away',
    question: 'Is Tomas around in January?',
    relevant: { 'team-tomas-ooo': 2 },
  },
  {
    id: 'q-refund-who',
    question: 'Who in finance handles a refund?',
    relevant: { 'team-billing': 2, 'sup-vandelay-billing': 1 },
  },
  {
    id: 'q-security-questionnaire',
    question: 'A prospect sent a security questionnaire, who fills it in?',
    relevant: { 'team-security': 2, 'note-security-page': 1 },
  },
  {
    id: 'q-grace',
    question: 'When does the new customer success manager join?',
    relevant: { 'team-new-hire': 2 },
  },
];
