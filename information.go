package vat

import "context"

// CustomerInformation is what HMRC holds about a VAT customer's
// registration. Both parts are optional.
type CustomerInformation struct {
	// CustomerDetails holds the registration date; nil when HMRC has none.
	CustomerDetails *CustomerDetails `json:"customerDetails,omitempty"`
	// FlatRateScheme describes the business's use of the VAT Flat Rate
	// Scheme; nil when HMRC holds no flat rate scheme details.
	FlatRateScheme *FlatRateScheme `json:"flatRateScheme,omitempty"`
}

// CustomerDetails holds a customer's VAT registration details.
type CustomerDetails struct {
	// EffectiveRegistrationDate is the date from which the business is
	// registered for VAT; zero when HMRC leaves it out.
	EffectiveRegistrationDate Date `json:"effectiveRegistrationDate,omitzero"`
}

// FlatRateScheme describes a business's use of the VAT Flat Rate Scheme.
type FlatRateScheme struct {
	// FRSCategory is the business's flat rate category, a three-digit code
	// such as "001"; empty when HMRC leaves it out.
	FRSCategory FRSCategory `json:"frsCategory,omitempty"`
	// StartDate is the date the business joined the scheme; zero when HMRC
	// leaves it out.
	StartDate Date `json:"startDate,omitzero"`
}

// FRSCategory is a VAT Flat Rate Scheme business category: "001" to "055",
// or "999" for data migrated from HMRC's old system. Categories HMRC adds
// later decode as their code.
type FRSCategory string

// The flat rate categories HMRC documents.
const (
	FRSAccountancyOrBookKeeping                                       FRSCategory = "001" // Accountancy or book-keeping
	FRSAdvertising                                                    FRSCategory = "002" // Advertising
	FRSAgriculturalServices                                           FRSCategory = "003" // Agricultural services
	FRSAnyOtherActivityNotListedElsewhere                             FRSCategory = "004" // Any other activity not listed elsewhere
	FRSArchitectCivilAndStructuralEngineerOrSurveyor                  FRSCategory = "005" // Architect, civil and structural engineer or surveyor
	FRSBoardingOrCareOfAnimals                                        FRSCategory = "006" // Boarding or care of animals
	FRSBusinessServicesNotListedElsewhere                             FRSCategory = "007" // Business services not listed elsewhere
	FRSCateringServicesIncludingRestaurantsAndTakeaways               FRSCategory = "008" // Catering services including restaurants and takeaways
	FRSComputerAndITConsultancyOrDataProcessing                       FRSCategory = "009" // Computer and IT consultancy or data processing
	FRSComputerRepairServices                                         FRSCategory = "010" // Computer repair services
	FRSEntertainmentOrJournalism                                      FRSCategory = "011" // Entertainment or journalism
	FRSEstateAgencyOrPropertyManagementServices                       FRSCategory = "012" // Estate agency or property management services
	FRSFarmingOrAgricultureNotListedElsewhere                         FRSCategory = "013" // Farming or agriculture not listed elsewhere
	FRSFilmRadioTelevisionOrVideoProduction                           FRSCategory = "014" // Film, radio, television or video production
	FRSFinancialServices                                              FRSCategory = "015" // Financial services
	FRSForestryOrFishing                                              FRSCategory = "016" // Forestry or fishing
	FRSGeneralBuildingOrConstructionServices                          FRSCategory = "017" // General building or construction services
	FRSHairdressingOrOtherBeautyTreatmentServices                     FRSCategory = "018" // Hairdressing or other beauty treatment services
	FRSHiringOrRentingGoods                                           FRSCategory = "019" // Hiring or renting goods
	FRSHotelOrAccommodation                                           FRSCategory = "020" // Hotel or accommodation
	FRSInvestigationOrSecurity                                        FRSCategory = "021" // Investigation or security
	FRSLabourOnlyBuildingOrConstructionServices                       FRSCategory = "022" // Labour-only building or construction services
	FRSLaundryOrDryCleaningServices                                   FRSCategory = "023" // Laundry or dry-cleaning services
	FRSLawyerOrLegalServices                                          FRSCategory = "024" // Lawyer or legal services
	FRSLibraryArchiveMuseumOrOtherCulturalActivity                    FRSCategory = "025" // Library, archive, museum or other cultural activity
	FRSManagementConsultancy                                          FRSCategory = "026" // Management consultancy
	FRSManufacturingFabricatedMetalProducts                           FRSCategory = "027" // Manufacturing fabricated metal products
	FRSManufacturingFood                                              FRSCategory = "028" // Manufacturing food
	FRSManufacturingNotListedElsewhere                                FRSCategory = "029" // Manufacturing not listed elsewhere
	FRSManufacturingYarnTextilesOrClothing                            FRSCategory = "030" // Manufacturing yarn, textiles or clothing
	FRSMembershipOrganisation                                         FRSCategory = "031" // Membership organisation
	FRSMiningOrQuarrying                                              FRSCategory = "032" // Mining or quarrying
	FRSPackaging                                                      FRSCategory = "033" // Packaging
	FRSPhotography                                                    FRSCategory = "034" // Photography
	FRSPostOffices                                                    FRSCategory = "035" // Post offices
	FRSPrinting                                                       FRSCategory = "036" // Printing
	FRSPublishing                                                     FRSCategory = "037" // Publishing
	FRSPubs                                                           FRSCategory = "038" // Pubs
	FRSRealEstateActivityNotListedElsewhere                           FRSCategory = "039" // Real estate activity not listed elsewhere
	FRSRepairingPersonalOrHouseholdGoods                              FRSCategory = "040" // Repairing personal or household goods
	FRSRepairingVehicles                                              FRSCategory = "041" // Repairing vehicles
	FRSRetailingFoodConfectioneryTobaccoNewspapersOrChildrensClothing FRSCategory = "042" // Retailing food, confectionery, tobacco, newspapers or children’s clothing
	FRSRetailingPharmaceuticalsMedicalGoodsCosmeticsOrToiletries      FRSCategory = "043" // Retailing pharmaceuticals, medical goods, cosmetics or toiletries
	FRSRetailingNotListedElsewhere                                    FRSCategory = "044" // Retailing not listed elsewhere
	FRSRetailingVehiclesOrFuel                                        FRSCategory = "045" // Retailing vehicles or fuel
	FRSSecretarialServices                                            FRSCategory = "046" // Secretarial services
	FRSSocialWork                                                     FRSCategory = "047" // Social work
	FRSSportOrRecreation                                              FRSCategory = "048" // Sport or recreation
	FRSTransportOrStorageIncludingCouriersFreightRemovalsAndTaxis     FRSCategory = "049" // Transport or storage, including couriers, freight, removals and taxis
	FRSTravelAgency                                                   FRSCategory = "050" // Travel agency
	FRSVeterinaryMedicine                                             FRSCategory = "051" // Veterinary medicine
	FRSWholesalingAgriculturalProducts                                FRSCategory = "052" // Wholesaling agricultural products
	FRSWholesalingFood                                                FRSCategory = "053" // Wholesaling food
	FRSWholesalingNotListedElsewhere                                  FRSCategory = "054" // Wholesaling not listed elsewhere
	FRSDealingInWasteOrScrap                                          FRSCategory = "055" // Dealing in waste or scrap
	FRSDataMigratedFromVMF                                            FRSCategory = "999" // Data Migrated from VMF
)

// Description returns HMRC's label for c, for example "Accountancy or
// book-keeping", or "" for a category this package does not know.
func (c FRSCategory) Description() string {
	switch c {
	case FRSAccountancyOrBookKeeping:
		return "Accountancy or book-keeping"
	case FRSAdvertising:
		return "Advertising"
	case FRSAgriculturalServices:
		return "Agricultural services"
	case FRSAnyOtherActivityNotListedElsewhere:
		return "Any other activity not listed elsewhere"
	case FRSArchitectCivilAndStructuralEngineerOrSurveyor:
		return "Architect, civil and structural engineer or surveyor"
	case FRSBoardingOrCareOfAnimals:
		return "Boarding or care of animals"
	case FRSBusinessServicesNotListedElsewhere:
		return "Business services not listed elsewhere"
	case FRSCateringServicesIncludingRestaurantsAndTakeaways:
		return "Catering services including restaurants and takeaways"
	case FRSComputerAndITConsultancyOrDataProcessing:
		return "Computer and IT consultancy or data processing"
	case FRSComputerRepairServices:
		return "Computer repair services"
	case FRSEntertainmentOrJournalism:
		return "Entertainment or journalism"
	case FRSEstateAgencyOrPropertyManagementServices:
		return "Estate agency or property management services"
	case FRSFarmingOrAgricultureNotListedElsewhere:
		return "Farming or agriculture not listed elsewhere"
	case FRSFilmRadioTelevisionOrVideoProduction:
		return "Film, radio, television or video production"
	case FRSFinancialServices:
		return "Financial services"
	case FRSForestryOrFishing:
		return "Forestry or fishing"
	case FRSGeneralBuildingOrConstructionServices:
		return "General building or construction services"
	case FRSHairdressingOrOtherBeautyTreatmentServices:
		return "Hairdressing or other beauty treatment services"
	case FRSHiringOrRentingGoods:
		return "Hiring or renting goods"
	case FRSHotelOrAccommodation:
		return "Hotel or accommodation"
	case FRSInvestigationOrSecurity:
		return "Investigation or security"
	case FRSLabourOnlyBuildingOrConstructionServices:
		return "Labour-only building or construction services"
	case FRSLaundryOrDryCleaningServices:
		return "Laundry or dry-cleaning services"
	case FRSLawyerOrLegalServices:
		return "Lawyer or legal services"
	case FRSLibraryArchiveMuseumOrOtherCulturalActivity:
		return "Library, archive, museum or other cultural activity"
	case FRSManagementConsultancy:
		return "Management consultancy"
	case FRSManufacturingFabricatedMetalProducts:
		return "Manufacturing fabricated metal products"
	case FRSManufacturingFood:
		return "Manufacturing food"
	case FRSManufacturingNotListedElsewhere:
		return "Manufacturing not listed elsewhere"
	case FRSManufacturingYarnTextilesOrClothing:
		return "Manufacturing yarn, textiles or clothing"
	case FRSMembershipOrganisation:
		return "Membership organisation"
	case FRSMiningOrQuarrying:
		return "Mining or quarrying"
	case FRSPackaging:
		return "Packaging"
	case FRSPhotography:
		return "Photography"
	case FRSPostOffices:
		return "Post offices"
	case FRSPrinting:
		return "Printing"
	case FRSPublishing:
		return "Publishing"
	case FRSPubs:
		return "Pubs"
	case FRSRealEstateActivityNotListedElsewhere:
		return "Real estate activity not listed elsewhere"
	case FRSRepairingPersonalOrHouseholdGoods:
		return "Repairing personal or household goods"
	case FRSRepairingVehicles:
		return "Repairing vehicles"
	case FRSRetailingFoodConfectioneryTobaccoNewspapersOrChildrensClothing:
		return "Retailing food, confectionery, tobacco, newspapers or children’s clothing"
	case FRSRetailingPharmaceuticalsMedicalGoodsCosmeticsOrToiletries:
		return "Retailing pharmaceuticals, medical goods, cosmetics or toiletries"
	case FRSRetailingNotListedElsewhere:
		return "Retailing not listed elsewhere"
	case FRSRetailingVehiclesOrFuel:
		return "Retailing vehicles or fuel"
	case FRSSecretarialServices:
		return "Secretarial services"
	case FRSSocialWork:
		return "Social work"
	case FRSSportOrRecreation:
		return "Sport or recreation"
	case FRSTransportOrStorageIncludingCouriersFreightRemovalsAndTaxis:
		return "Transport or storage, including couriers, freight, removals and taxis"
	case FRSTravelAgency:
		return "Travel agency"
	case FRSVeterinaryMedicine:
		return "Veterinary medicine"
	case FRSWholesalingAgriculturalProducts:
		return "Wholesaling agricultural products"
	case FRSWholesalingFood:
		return "Wholesaling food"
	case FRSWholesalingNotListedElsewhere:
		return "Wholesaling not listed elsewhere"
	case FRSDealingInWasteOrScrap:
		return "Dealing in waste or scrap"
	case FRSDataMigratedFromVMF:
		return "Data Migrated from VMF"
	}
	return ""
}

// CustomerInformation retrieves what HMRC holds about the VAT customer vrn:
// the effective registration date and Flat Rate Scheme details (GET
// /organisations/vat/{vrn}/information, scope read:vat).
//
// HMRC answers 404 ErrNotFound when it has no information for the customer
// and 403 ErrNotAuthorised when the token is not for this VRN.
func (c *Client) CustomerInformation(ctx context.Context, vrn VRN, opts ...CallOption) (*CustomerInformation, error) {
	if err := validate("CustomerInformation", vrn.check); err != nil {
		return nil, err
	}
	var out CustomerInformation
	if _, err := c.get(ctx, &request{op: "CustomerInformation", path: vatPath(vrn, "information")}, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}
